/**
 * P-256 point helpers shared by every recipient type over P-256 (`piv-p256`, `p256tag`, the
 * SmartCard-HSM's): SEC1 compression with validation, and constant-length byte comparison.
 */
import { p256 } from '@noble/curves/nist.js';

/** A 33-byte compressed or 65-byte uncompressed point, validated and returned compressed; throws RangeError. */
export function compressP256(point: Uint8Array): Uint8Array {
  try {
    return p256.Point.fromBytes(point).toBytes(true);
  } catch {
    throw new RangeError('Invalid P-256 public key');
  }
}

/** The point uncompressed (65 bytes); throws RangeError when it is not on the curve. */
export function uncompressP256(point: Uint8Array): Uint8Array {
  try {
    return p256.Point.fromBytes(point).toBytes(false);
  } catch {
    throw new RangeError('Invalid P-256 public key');
  }
}

/** The compressed point when `point` is a valid P-256 point, else null. */
export function tryCompressP256(point: Uint8Array): Uint8Array | null {
  try {
    return p256.Point.fromBytes(point).toBytes(true);
  } catch {
    return null;
  }
}

/** Whether two byte strings are equal (tags and other public values; not for secrets). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
