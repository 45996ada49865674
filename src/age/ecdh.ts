/**
 * The ephemeral side of the Diffie-Hellman wraps (`piv-p256`, `picohsm`, `X25519`) on node's own
 * OpenSSL (node:crypto). The JS curve code builds its precomputed tables on first use, which
 * costs a one-shot `age -e` to a plugin recipient tens of milliseconds; OpenSSL has them built in.
 * OpenSSL checks the peer point (on the curve, not the identity) and refuses an all-zero X25519
 * output; callers have checked the recipient's encoding before.
 */
import { createCipheriv, createECDH, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto';

export interface EphemeralEcdh {
  /** The ephemeral public key (P-256: SEC1, compressed or not as asked; X25519: 32 bytes). */
  readonly publicKey: Uint8Array;
  /** The shared secret (P-256: the x-coordinate, 32 bytes; X25519: the 32-byte output). */
  readonly shared: Uint8Array;
}

const bytes = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.length);

/**
 * ECDH on P-256 with a fresh ephemeral key (or `ephemeralScalar`, for test vectors) towards
 * `peer` (33 or 65 bytes); throws RangeError when `peer` is not a point of the curve.
 */
export function p256EphemeralEcdh(peer: Uint8Array, compressed: boolean, ephemeralScalar?: Uint8Array): EphemeralEcdh {
  const ecdh = createECDH('prime256v1');
  if (ephemeralScalar) ecdh.setPrivateKey(ephemeralScalar);
  else ecdh.generateKeys();
  let shared: Buffer;
  try {
    shared = ecdh.computeSecret(peer);
  } catch {
    throw new RangeError('Invalid P-256 public key');
  }
  return { publicKey: bytes(ecdh.getPublicKey(null, compressed ? 'compressed' : 'uncompressed')), shared: bytes(shared) };
}

/**
 * The body of a wrap (age's X25519 stanza and the stanzas built like it): ChaCha20-Poly1305 with
 * an all-zero nonce, keyed by HKDF-SHA-256(ikm = `shared`, `salt`, `info`), over the file key:
 * ciphertext ‖ 16-byte tag. On OpenSSL, as the ECDH before it (the JS hash and cipher run
 * interpreted in a one-shot process).
 */
export function sealWrappedKey(fileKey: Uint8Array, shared: Uint8Array, salt: Uint8Array, info: Uint8Array): Uint8Array {
  const key = new Uint8Array(hkdfSync('sha256', shared, salt, info, 32));
  const c = createCipheriv('chacha20-poly1305', key, new Uint8Array(12), { authTagLength: 16 });
  return bytes(Buffer.concat([c.update(fileKey), c.final(), c.getAuthTag()]));
}

// An X25519 private key as DER (RFC 8410): the fixed prefix of a PKCS#8 key, for a given scalar.
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');

/**
 * Raw X25519 public keys in and out as JWK (RFC 8037 OKP): node hands those to OpenSSL as raw
 * keys, where DER would first set up OpenSSL's encoders and decoders (milliseconds of a one-shot wrap).
 */
const x25519Public = (key: Uint8Array): KeyObject => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(key).toString('base64url') }, format: 'jwk' });
const rawPublic = (key: KeyObject): Uint8Array => bytes(Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url'));

/**
 * X25519 with a fresh ephemeral key (or `ephemeralScalar`) towards the 32-byte `peer`; throws
 * RangeError when the output is all zero (a low-order peer).
 */
export function x25519EphemeralEcdh(peer: Uint8Array, ephemeralScalar?: Uint8Array): EphemeralEcdh {
  if (peer.length !== 32) throw new RangeError('an X25519 public key is 32 bytes');
  const privateKey = ephemeralScalar
    ? createPrivateKey({ key: Buffer.concat([X25519_PKCS8, ephemeralScalar]), format: 'der', type: 'pkcs8' })
    : generateKeyPairSync('x25519').privateKey;
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey, publicKey: x25519Public(peer) });
  } catch {
    throw new RangeError('X25519 output is all zero (low-order public key)');
  }
  if (shared.every((b) => b === 0)) throw new RangeError('X25519 output is all zero (low-order public key)');
  return { publicKey: rawPublic(privateKey), shared: bytes(shared) };
}
