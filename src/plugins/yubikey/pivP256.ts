/**
 * The `piv-p256` stanza of age-plugin-yubikey:
 *
 *   -> piv-p256 <b64 tag (4 B)> <b64 epk (33 B, compressed)>
 *   <b64 ChaCha20-Poly1305(HKDF-SHA256(ikm = ECDH x, salt = epk ‖ pk, info "piv-p256"), nonce 0)(file key)>
 *
 * Wrapping is pure. Unwrapping takes the ECDH as a function, because the recipient's scalar lives
 * on the card: `ecdh(epkUncompressed)` returns the 32-byte shared x-coordinate.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64nopad } from '@scure/base';
import type { Stanza } from '../../age/stanza.ts';
import { p256EphemeralEcdh, sealWrappedKey } from '../../age/ecdh.ts';
import { isP256Point, uncompressP256 } from '../../age/p256.ts';
import { YubiKeyError } from './errors.ts';
import { recipientTag } from './recipient.ts';

export const PIV_P256_TYPE = 'piv-p256';
const INFO = new TextEncoder().encode('piv-p256');
const ZERO_NONCE = new Uint8Array(12);

export interface PivP256Stanza {
  tag: Uint8Array;
  /** Ephemeral public key, 33 bytes compressed. */
  epk: Uint8Array;
  body: Uint8Array;
}

function wrapSalt(epk: Uint8Array, pk: Uint8Array): Uint8Array {
  const salt = new Uint8Array(66);
  salt.set(epk, 0);
  salt.set(pk, 33);
  return salt;
}

function wrapKey(sharedX: Uint8Array, epk: Uint8Array, pk: Uint8Array): Uint8Array {
  return hkdf(sha256, sharedX, wrapSalt(epk, pk), INFO, 32);
}

/** Wraps a 16-byte file key to a compressed P-256 public key. `ephemeralScalar` is for test vectors only. */
export function wrapPivP256(fileKey: Uint8Array, pk: Uint8Array, ephemeralScalar?: Uint8Array): Stanza {
  if (fileKey.length !== 16) throw new RangeError('file key must be 16 bytes');
  const { publicKey: epk, shared: sharedX } = p256EphemeralEcdh(pk, true, ephemeralScalar);
  const body = sealWrappedKey(fileKey, sharedX, wrapSalt(epk, pk), INFO);
  return {
    type: PIV_P256_TYPE,
    args: [base64nopad.encode(recipientTag(pk)), base64nopad.encode(epk)],
    body,
  };
}

function decodeExact(s: string, bytes: number): Uint8Array | null {
  if (s.length !== Math.ceil((4 * bytes) / 3)) return null;
  try {
    const out = base64nopad.decode(s);
    return out.length === bytes ? out : null;
  } catch {
    return null;
  }
}

/**
 * Parses a stanza already known to be `piv-p256`. Returns null when it is malformed (two
 * arguments, a 4-byte tag, a valid compressed point, a 32-byte body are required).
 */
export function parsePivP256(stanza: Stanza): PivP256Stanza | null {
  if (stanza.type !== PIV_P256_TYPE || stanza.args.length !== 2) return null;
  const tag = decodeExact(stanza.args[0]!, 4);
  const epk = decodeExact(stanza.args[1]!, 33);
  if (!tag || !epk || stanza.body.length !== 32) return null;
  if (epk[0] !== 2 && epk[0] !== 3) return null;
  if (!isP256Point(epk)) return null;
  return { tag, epk, body: stanza.body };
}

/**
 * Unwraps with the card: `ecdh` receives the 65-byte uncompressed epk and returns the shared
 * x-coordinate. Throws DECRYPT_FAILED when the AEAD does not open.
 */
export async function unwrapPivP256(
  stanza: PivP256Stanza,
  pk: Uint8Array,
  ecdh: (peerUncompressed: Uint8Array) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const epkFull = uncompressP256(stanza.epk);
  const sharedX = await ecdh(epkFull);
  if (sharedX.length !== 32) throw new YubiKeyError('DECRYPT_FAILED', 'Failed to decrypt YubiKey stanza');
  try {
    return chacha20poly1305(wrapKey(sharedX, stanza.epk, pk), ZERO_NONCE).decrypt(stanza.body);
  } catch (cause) {
    throw new YubiKeyError('DECRYPT_FAILED', 'Failed to decrypt YubiKey stanza', { cause });
  }
}
