/**
 * The few crypto operations of the one-shot commands' start paths (the age plugins' recipient-v1
 * and identity-v1 up to the card, ssh-to-age -private-key, bw derive): P-256 points and ECDH,
 * X25519, Ed25519 public keys, SHA-256/512, HMAC and HKDF with SHA-256, ChaCha20-Poly1305. They
 * run on node's own OpenSSL either way: through the native addon keybridge_openssl
 * (native/openssl.c) when it is built, else through node:crypto, with the same results. The addon
 * spares a one-shot process the loading of node:crypto (node's stream modules and KeyObject
 * machinery, milliseconds of its start). It is loaded on first use, never when
 * KEYBRIDGE_NO_NATIVE_OPENSSL=1.
 */
import type { KeyObject } from 'node:crypto';
import { loadAddon } from './nativeAddon.ts';
import { nodeCrypto } from './nodeCrypto.ts';

/** An ephemeral public key and the secret it shares with the peer. */
export interface KeyAgreement {
  /** The ephemeral public key (P-256: SEC1, compressed or not as asked; X25519: 32 bytes). */
  readonly publicKey: Uint8Array;
  /** The shared secret (P-256: the x-coordinate, 32 bytes; X25519: the 32-byte output). */
  readonly shared: Uint8Array;
}

/** The operations, as the addon exports them and the node:crypto fallback implements them. */
export interface OpensslBackend {
  /** A 33-byte 02/03 or 65-byte 04 SEC1 P-256 point, compressed or uncompressed; null when not a point of the curve. */
  p256Convert(point: Uint8Array, compressed: boolean): Uint8Array | null;
  /** ECDH on P-256 with a fresh key (or the 32-byte `scalar`) towards `peer`; null when `peer` is not a point p256Convert accepts. */
  p256Ecdh(peer: Uint8Array, compressed: boolean, scalar?: Uint8Array): KeyAgreement | null;
  /** X25519 with a fresh key (or the 32-byte `scalar`) towards the 32-byte `peer`; null when the output is all zero (low-order peer). */
  x25519(peer: Uint8Array, scalar?: Uint8Array): KeyAgreement | null;
  x25519PublicKey(scalar: Uint8Array): Uint8Array;
  /** The Ed25519 public key of a 32-byte seed (RFC 8032). */
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  sha512(data: Uint8Array): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** HKDF-Extract (RFC 5869 §2.2): HMAC-SHA-256 keyed by the salt over the input key. */
  hkdfExtractSha256(salt: Uint8Array, ikm: Uint8Array): Uint8Array;
  /** HKDF-SHA-256, extract and expand (RFC 5869); `length` ≤ 8160, `info` ≤ 1024 bytes. */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** ChaCha20-Poly1305 (RFC 8439), 32-byte key, 12-byte nonce: ciphertext ‖ 16-byte tag. */
  chacha20Poly1305Seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;
  /** The plaintext, or null when the tag does not verify. */
  chacha20Poly1305Open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array | null;
}

const view = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.length);

/** The SEC1 forms accepted: 33 bytes 02/03 ‖ X or 65 bytes 04 ‖ X ‖ Y (OpenSSL would also read the hybrid 06/07 form). */
const isSec1 = (p: Uint8Array) => (p.length === 33 && (p[0] === 2 || p[0] === 3)) || (p.length === 65 && p[0] === 4);

// PKCS#8 (RFC 8410) prefixes of a raw 32-byte X25519 and Ed25519 private key.
// (byte literals: a hex string would set up Buffer's string decoding at every start, for the fallback only)
const X25519_PKCS8 = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20);
const ED25519_PKCS8 = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20);

function rawPrivate(prefix: Uint8Array, key: Uint8Array): KeyObject {
  if (key.length !== 32) throw new RangeError('the private key must be 32 bytes');
  const der = Buffer.concat([prefix, key]);
  try {
    return nodeCrypto().createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

/**
 * Raw public keys in and out as JWK (RFC 8037 OKP): node hands those to OpenSSL as raw keys,
 * where DER would first set up OpenSSL's encoders and decoders.
 */
const rawPublic = (key: KeyObject): Uint8Array => view(Buffer.from(nodeCrypto().createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url'));

/** crypto.hash (node ≥ 20.12) hashes in one call, without a Hash object. */
function digest(name: 'sha256' | 'sha512', data: Uint8Array): Uint8Array {
  const { hash, createHash } = nodeCrypto();
  return view(hash ? hash(name, data, 'buffer') : createHash(name).update(data).digest());
}

function aead(decrypt: boolean, key: Uint8Array, nonce: Uint8Array, input: Uint8Array, aad?: Uint8Array): Uint8Array | null {
  if (key.length !== 32 || nonce.length !== 12) throw new RangeError('ChaCha20-Poly1305 takes a 32-byte key and a 12-byte nonce');
  if (decrypt && input.length < 16) return null;
  const c = nodeCrypto();
  const options = { authTagLength: 16 } as const;
  if (!decrypt) {
    const cipher = c.createCipheriv('chacha20-poly1305', key, nonce, options);
    if (aad) cipher.setAAD(aad, { plaintextLength: input.length });
    return view(Buffer.concat([cipher.update(input), cipher.final(), cipher.getAuthTag()]));
  }
  const text = input.subarray(0, input.length - 16);
  const decipher = c.createDecipheriv('chacha20-poly1305', key, nonce, options);
  if (aad) decipher.setAAD(aad, { plaintextLength: text.length });
  decipher.setAuthTag(input.subarray(text.length));
  const out = decipher.update(text);
  try {
    return view(Buffer.concat([out, decipher.final()]));
  } catch {
    return null;
  } finally {
    out.fill(0);
  }
}

/** The same operations through node:crypto. */
export const nodeCryptoBackend: OpensslBackend = {
  p256Convert(point, compressed) {
    if (!isSec1(point)) return null;
    try {
      return view(nodeCrypto().ECDH.convertKey(point, 'prime256v1', undefined, undefined, compressed ? 'compressed' : 'uncompressed') as Buffer);
    } catch {
      return null;
    }
  },
  p256Ecdh(peer, compressed, scalar) {
    if (!isSec1(peer)) return null;
    const ecdh = nodeCrypto().createECDH('prime256v1');
    if (scalar) {
      if (scalar.length !== 32) throw new RangeError('the scalar must be 32 bytes');
      ecdh.setPrivateKey(scalar);
    } else ecdh.generateKeys();
    let shared: Buffer;
    try {
      shared = ecdh.computeSecret(peer);
    } catch {
      return null;
    }
    return { publicKey: view(ecdh.getPublicKey(null, compressed ? 'compressed' : 'uncompressed')), shared: view(shared) };
  },
  x25519(peer, scalar) {
    if (peer.length !== 32) throw new RangeError('an X25519 public key is 32 bytes');
    const c = nodeCrypto();
    const privateKey = scalar ? rawPrivate(X25519_PKCS8, scalar) : c.generateKeyPairSync('x25519').privateKey;
    const publicKey = c.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(peer).toString('base64url') }, format: 'jwk' });
    let shared: Buffer;
    try {
      shared = c.diffieHellman({ privateKey, publicKey });
    } catch {
      return null; // OpenSSL refuses an all-zero output
    }
    if (shared.every((b) => b === 0)) return null;
    return { publicKey: rawPublic(privateKey), shared: view(shared) };
  },
  x25519PublicKey: (scalar) => rawPublic(rawPrivate(X25519_PKCS8, scalar)),
  ed25519PublicKey: (seed) => rawPublic(rawPrivate(ED25519_PKCS8, seed)),
  sha256: (data) => digest('sha256', data),
  sha512: (data) => digest('sha512', data),
  hmacSha256: (key, data) => view(nodeCrypto().createHmac('sha256', key).update(data).digest()),
  hkdfExtractSha256: (salt, ikm) => nodeCryptoBackend.hmacSha256(salt, ikm),
  hkdfSha256: (ikm, salt, info, length) => new Uint8Array(nodeCrypto().hkdfSync('sha256', ikm, salt, info, length)),
  chacha20Poly1305Seal: (key, nonce, plaintext, aad) => aead(false, key, nonce, plaintext, aad)!,
  chacha20Poly1305Open: (key, nonce, sealed, aad) => aead(true, key, nonce, sealed, aad),
};

let native: { addon?: OpensslBackend; reason?: string } | undefined;

function loadNative(): NonNullable<typeof native> {
  if (native) return native;
  if (process.env.KEYBRIDGE_NO_NATIVE_OPENSSL === '1') return (native = { reason: 'KEYBRIDGE_NO_NATIVE_OPENSSL=1 keeps it unloaded' });
  const { addon, reason } = loadAddon<OpensslBackend>('keybridge_openssl');
  return (native = addon ? { addon } : { reason });
}

/** The addon's operations, or undefined when it is not built or kept unloaded. */
export function nativeOpensslBackend(): OpensslBackend | undefined {
  return loadNative().addon;
}

/** Why the addon is not used, or undefined when it is. */
export function nativeOpensslUnavailableReason(): string | undefined {
  return loadNative().reason;
}

/** The addon when it loads, else node:crypto. */
export function openssl(): OpensslBackend {
  return loadNative().addon ?? nodeCryptoBackend;
}

/** SHA-256 on node's OpenSSL (recipient tags, fingerprints on a start path). */
export const sha256 = (data: Uint8Array): Uint8Array => openssl().sha256(data);

/** HKDF-Extract with SHA-256 (RFC 5869 §2.2) on node's OpenSSL. */
export const hkdfExtractSha256 = (salt: Uint8Array, ikm: Uint8Array): Uint8Array => openssl().hkdfExtractSha256(salt, ikm);
