/**
 * The ephemeral side of the Diffie-Hellman wraps (`piv-p256`, `picohsm`, `X25519`) on node's own
 * OpenSSL (src/openssl.ts: the native addon, else node:crypto). The JS curve code builds its
 * precomputed tables on first use, which costs a one-shot `age -e` to a plugin recipient tens of
 * milliseconds; OpenSSL has them built in. OpenSSL checks the peer point (on the curve, not the
 * identity) and refuses an all-zero X25519 output; callers have checked the recipient's encoding
 * before.
 */
import { openssl, type KeyAgreement } from '../openssl.ts';

export type EphemeralEcdh = KeyAgreement;

/**
 * ECDH on P-256 with a fresh ephemeral key (or `ephemeralScalar`, for test vectors) towards
 * `peer` (33 or 65 bytes); throws RangeError when `peer` is not a point of the curve.
 */
export function p256EphemeralEcdh(peer: Uint8Array, compressed: boolean, ephemeralScalar?: Uint8Array): EphemeralEcdh {
  const r = openssl().p256Ecdh(peer, compressed, ephemeralScalar);
  if (!r) throw new RangeError('Invalid P-256 public key');
  return r;
}

const ZERO_NONCE = new Uint8Array(12);

/**
 * The body of a wrap (age's X25519 stanza and the stanzas built like it): ChaCha20-Poly1305 with
 * an all-zero nonce, keyed by HKDF-SHA-256(ikm = `shared`, `salt`, `info`), over the file key:
 * ciphertext ‖ 16-byte tag. On OpenSSL, as the ECDH before it (the JS hash and cipher run
 * interpreted in a one-shot process).
 */
export function sealWrappedKey(fileKey: Uint8Array, shared: Uint8Array, salt: Uint8Array, info: Uint8Array): Uint8Array {
  const o = openssl();
  const key = o.hkdfSha256(shared, salt, info, 32);
  try {
    return o.chacha20Poly1305Seal(key, ZERO_NONCE, fileKey);
  } finally {
    key.fill(0);
  }
}

/**
 * X25519 with a fresh ephemeral key (or `ephemeralScalar`) towards the 32-byte `peer`; throws
 * RangeError when the output is all zero (a low-order peer).
 */
export function x25519EphemeralEcdh(peer: Uint8Array, ephemeralScalar?: Uint8Array): EphemeralEcdh {
  if (peer.length !== 32) throw new RangeError('an X25519 public key is 32 bytes');
  const r = openssl().x25519(peer, ephemeralScalar);
  if (!r) throw new RangeError('X25519 output is all zero (low-order public key)');
  return r;
}
