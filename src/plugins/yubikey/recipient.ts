/**
 * `age1yubikey1…` recipients: Bech32 over the 33-byte SEC1 compressed P-256 public key of a PIV
 * slot. The same 33 bytes under HRP `age1tag` form the native `p256tag` recipient that Go age
 * >= 1.3, rage >= 0.12 and typage encrypt to without any plugin.
 *
 * The recipient tag (stored in identity stubs and written in `piv-p256` stanzas) is
 * SHA-256(compressed point)[0..4].
 */
import { sha256 } from '../../openssl.ts';
import { bech32Decode, bech32Encode } from '../../age/bech32.ts';
import { compressP256 as compress, isP256Point } from '../../age/p256.ts';
import { YubiKeyError } from './errors.ts';

export const RECIPIENT_HRP = 'age1yubikey';
export const TAG_RECIPIENT_HRP = 'age1tag';

/** Accepts a 33-byte compressed or 65-byte uncompressed point and returns it compressed, validated. */
export function compressP256(point: Uint8Array): Uint8Array {
  try {
    return compress(point);
  } catch (cause) {
    throw new YubiKeyError('INVALID_RECIPIENT', 'Invalid P-256 public key', { cause });
  }
}

/** The 4-byte tag of a recipient: SHA-256 of the 33-byte compressed point, first 4 bytes. */
export function recipientTag(compressed: Uint8Array): Uint8Array {
  if (compressed.length !== 33) throw new YubiKeyError('INVALID_RECIPIENT', 'A recipient tag needs the 33-byte compressed point');
  return sha256(compressed).subarray(0, 4);
}

export function encodeRecipient(compressed: Uint8Array): string {
  return bech32Encode(RECIPIENT_HRP, compressP256(compressed));
}

export function encodeTagRecipient(compressed: Uint8Array): string {
  return bech32Encode(TAG_RECIPIENT_HRP, compressP256(compressed));
}

/**
 * The recipient payload (already Bech32-decoded): only a 33-byte compressed point on the curve is
 * accepted, as the reference does.
 */
export function parseRecipientBytes(data: Uint8Array): Uint8Array {
  if (data.length !== 33 || (data[0] !== 2 && data[0] !== 3)) {
    throw new YubiKeyError('INVALID_RECIPIENT', 'Invalid recipient');
  }
  if (!isP256Point(data)) throw new YubiKeyError('INVALID_RECIPIENT', 'Invalid recipient');
  return data;
}

/** Parses `age1yubikey1…` (or, with `allowTag`, `age1tag1…`) into the compressed point. */
export function decodeRecipient(s: string, opts: { allowTag?: boolean } = {}): Uint8Array {
  let hrp: string;
  let data: Uint8Array;
  try {
    ({ hrp, data } = bech32Decode(s));
  } catch (cause) {
    throw new YubiKeyError('INVALID_RECIPIENT', 'Invalid recipient', { cause });
  }
  if (s !== s.toLowerCase()) throw new YubiKeyError('INVALID_RECIPIENT', 'Invalid recipient');
  if (hrp !== RECIPIENT_HRP && !(opts.allowTag && hrp === TAG_RECIPIENT_HRP)) {
    throw new YubiKeyError('INVALID_RECIPIENT', 'Invalid recipient');
  }
  return parseRecipientBytes(data);
}
