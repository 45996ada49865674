/**
 * The key wrapping that age's X25519 stanza and the hardware-plugin stanzas built on it share:
 * wrap key = HKDF-SHA256(ikm = ECDH shared secret, salt, info), body = ChaCha20-Poly1305 with an
 * all-zero nonce over the 16-byte file key (32-byte body).
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';

import { sealWrappedKey } from './ecdh.ts';

const ZERO_NONCE = new Uint8Array(12);

function wrapKey(shared: Uint8Array, salt: Uint8Array, info: string): Uint8Array {
  return hkdf(sha256, shared, salt, new TextEncoder().encode(info), 32);
}

export function sealFileKey(fileKey: Uint8Array, shared: Uint8Array, salt: Uint8Array, info: string): Uint8Array {
  if (fileKey.length !== 16) throw new RangeError('file key must be 16 bytes');
  return sealWrappedKey(fileKey, shared, salt, new TextEncoder().encode(info));
}

/** The file key, or null when the body does not open with this key (not for this recipient). */
export function openFileKey(body: Uint8Array, shared: Uint8Array, salt: Uint8Array, info: string): Uint8Array | null {
  if (body.length !== 32) return null;
  try {
    return chacha20poly1305(wrapKey(shared, salt, info), ZERO_NONCE).decrypt(body);
  } catch {
    return null;
  }
}
