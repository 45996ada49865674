/**
 * `age1picohsm1…` recipients (pinpox/age-plugin-picohsm): Bech32 over the 65-byte uncompressed
 * P-256 public key. The fingerprint written in `picohsm` stanzas and shown to users is
 * SHA-256(uncompressed point)[0..8], displayed as colon-separated hex pairs.
 *
 * The same key's native forms: P-256 keys as `age1tag1…` (33-byte compressed point, p256tag),
 * X25519 keys as plain `age1…` (32 bytes).
 */
import { compressP256, isP256Point } from '../../age/p256.ts';
import { sha256 } from '../../openssl.ts';
import { bech32Decode, bech32Encode } from '../../age/bech32.ts';
import { PicoHsmError } from './errors.ts';

export const RECIPIENT_HRP = 'age1picohsm';
export const TAG_RECIPIENT_HRP = 'age1tag';
export const X25519_RECIPIENT_HRP = 'age';

/** Checks a P-256 public key: a valid uncompressed point (65 bytes, 04 ‖ X ‖ Y). */
export function checkUncompressedP256(point: Uint8Array): Uint8Array {
  if (point.length !== 65) throw new PicoHsmError('INVALID_RECIPIENT', `invalid recipient data length: ${point.length} (expected 65)`);
  if (point[0] !== 0x04) throw new PicoHsmError('INVALID_RECIPIENT', 'public key must be uncompressed (start with 0x04)');
  if (!isP256Point(point)) throw new PicoHsmError('INVALID_RECIPIENT', 'the recipient is not a valid P-256 public key');
  return point;
}

export function encodeRecipient(point: Uint8Array): string {
  return bech32Encode(RECIPIENT_HRP, checkUncompressedP256(point));
}

/** A recipient payload as the protocol layer hands it over (Bech32 and HRP already checked). */
export function parseRecipientBytes(data: Uint8Array): Uint8Array {
  return checkUncompressedP256(Uint8Array.from(data));
}

/** The 65-byte point of an `age1picohsm1…` recipient. */
export function decodeRecipient(s: string): Uint8Array {
  let d: { hrp: string; data: Uint8Array };
  try {
    d = bech32Decode(s);
  } catch (cause) {
    throw new PicoHsmError('INVALID_RECIPIENT', `invalid recipient ${s.slice(0, 20)}…: ${(cause as Error).message}`, { cause });
  }
  if (d.hrp !== RECIPIENT_HRP) throw new PicoHsmError('INVALID_RECIPIENT', `not an age1picohsm recipient (${d.hrp.slice(0, 32)})`);
  return checkUncompressedP256(d.data);
}

/** The `age1tag1…` form of a P-256 key (native p256tag recipient). */
export function encodeTagRecipient(point: Uint8Array): string {
  return bech32Encode(TAG_RECIPIENT_HRP, compressP256(checkUncompressedP256(point)));
}

/** The plain `age1…` recipient of an X25519 key. */
export function encodeX25519Recipient(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new PicoHsmError('INVALID_RECIPIENT', 'an X25519 public key is 32 bytes');
  return bech32Encode(X25519_RECIPIENT_HRP, publicKey);
}

/** SHA-256(uncompressed point)[0..8]: the stanza's second argument. */
export function fingerprint(point: Uint8Array): Uint8Array {
  return sha256(point).subarray(0, 8);
}

/** `88:76:6b:8a:0f:d9:fb:66`, as pinpox's plugin prints it. */
export function formatFingerprint(fp: Uint8Array): string {
  return [...fp].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
