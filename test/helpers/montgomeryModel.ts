/**
 * An independent model of the reference ssh-to-age's Ed25519 → Montgomery conversion, and the odd
 * points it must agree on, for the tests of every backend (test/ssh/convert.test.ts,
 * test/ssh/native.test.ts).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { mod, invert } from '@noble/curves/abstract/modular.js';

export const P = 2n ** 255n - 19n;

/**
 * Independent model of the reference (filippo.io/edwards25519 SetBytes + BytesMontgomery):
 * noble's ZIP-215 decoding (non-canonical y and "negative zero" x accepted) and u = (1+y)/(1−y)
 * with 1/0 = 0.
 */
export function referenceMontgomery(pub: Uint8Array): Uint8Array | null {
  let point;
  try {
    point = ed25519.Point.fromBytes(pub, true);
  } catch {
    return null;
  }
  const y = point.toAffine().y;
  const den = mod(1n - y, P);
  const u = den === 0n ? 0n : mod((1n + y) * invert(den, P), P);
  const out = new Uint8Array(32);
  let v = u;
  for (let i = 0; i < 32; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

export function le(n: bigint, signBit = false): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  if (signBit) out[31]! |= 0x80;
  return out;
}

/** Odd encodings: small-order points, non-canonical y, y = 1, points not on the curve. Go's SetBytes accepts all but y = 2 (and 'all ones' is whatever the model says). */
export const EDGE_CASES: readonly [string, Uint8Array][] = [
  ['identity (y = 1): u = 0', le(1n)],
  ['y = −1 (order 2)', le(P - 1n)],
  ['y = 0 (order 4)', le(0n)],
  ['y = 0 with the sign bit set', le(0n, true)],
  ['identity with the sign bit set (x = 0, "negative zero")', le(1n, true)],
  ['non-canonical y = p (≡ 0)', le(P)],
  ['non-canonical y = p + 1 (≡ 1)', le(P + 1n)],
  ['all ones (y = 2^255 − 1 ≡ 18)', new Uint8Array(32).fill(0xff)],
  ['y = 2 (not on the curve)', le(2n)],
  ['base point', ed25519.Point.BASE.toBytes()],
];
