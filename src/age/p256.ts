/**
 * P-256 point helpers shared by every recipient type over P-256 (`piv-p256`, `p256tag`, the
 * SmartCard-HSM's): SEC1 compression with validation, and constant-length byte comparison.
 * Points are checked and converted by node's OpenSSL (src/openssl.ts; a JS curve builds its tables
 * when first loaded, milliseconds of a plugin's start). Accepted are exactly the SEC1 encodings the
 * JS curve takes: 33 bytes 02/03 ‖ X or 65 bytes 04 ‖ X ‖ Y, with X, Y below the field prime, of a
 * point on the curve (not the hybrid 06/07 form OpenSSL would also read).
 */
import { openssl } from '../openssl.ts';

const convert = (point: Uint8Array, form: 'compressed' | 'uncompressed'): Uint8Array | null => openssl().p256Convert(point, form === 'compressed');

/** Whether `point` is a valid compressed (33-byte) or uncompressed (65-byte) P-256 point. */
export function isP256Point(point: Uint8Array): boolean {
  return convert(point, 'compressed') !== null;
}

/** A 33-byte compressed or 65-byte uncompressed point, validated and returned compressed; throws RangeError. */
export function compressP256(point: Uint8Array): Uint8Array {
  const c = convert(point, 'compressed');
  if (!c) throw new RangeError('Invalid P-256 public key');
  return c;
}

/** The point uncompressed (65 bytes); throws RangeError when it is not on the curve. */
export function uncompressP256(point: Uint8Array): Uint8Array {
  const u = convert(point, 'uncompressed');
  if (!u) throw new RangeError('Invalid P-256 public key');
  return u;
}

/** The compressed point when `point` is a valid P-256 point, else null. */
export function tryCompressP256(point: Uint8Array): Uint8Array | null {
  return convert(point, 'compressed');
}

/** Whether two byte strings are equal (tags and other public values; not for secrets). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
