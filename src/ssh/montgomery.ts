/**
 * Ed25519 public key (compressed Edwards point) → X25519 public key (Montgomery u), with the
 * exact acceptance rules of filippo.io/edwards25519 `Point.SetBytes` + `BytesMontgomery`, which
 * the reference ssh-to-age uses:
 * - the sign bit is ignored and y need not be reduced (y ≥ p is accepted, taken mod p);
 * - the encoding is valid iff x² = (y² − 1) / (d·y² + 1) has a solution in GF(p);
 * - u = (1 + y) / (1 − y), where 1/0 is taken as 0 (so y = 1 gives u = 0).
 * Small-order and mixed-order points are accepted, as the reference does.
 *
 * Many keys are converted together: the divisions share one field inversion (Montgomery's
 * trick), leaving one exponentiation per key for the validity check.
 */
import { FpInvertBatch } from '@noble/curves/abstract/modular.js';
import { Fp, P, areSquares, isSquare } from './quadraticResidue.ts';

/**
 * The edwards25519 constant d = −121665/121666 mod p (RFC 8032 §5.1), written out so that a
 * one-key conversion does not load the whole curve module; a test checks it against noble's.
 */
export const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;

const MASK_63 = (1n << 63n) - 1n;

function readY(pub: Uint8Array): bigint {
  const v = new DataView(pub.buffer, pub.byteOffset, 32);
  const y = v.getBigUint64(0, true) | (v.getBigUint64(8, true) << 64n) | (v.getBigUint64(16, true) << 128n) | ((v.getBigUint64(24, true) & MASK_63) << 192n);
  return y >= P ? y - P : y;
}

function writeLE32(x: bigint): Uint8Array {
  return new Uint8Array(Buffer.from(x.toString(16).padStart(64, '0'), 'hex').reverse());
}

/** True iff the 32 bytes decode to a point on edwards25519 (reference rules). */
export function isValidEd25519Encoding(pub: Uint8Array): boolean {
  return pointValidity(readY(pub));
}

/** x² = num/den has a solution iff num·den is a square (den is never 0 on edwards25519). */
function curveEquationProduct(y: bigint): bigint {
  const y2 = Fp.sqr(y);
  const num = Fp.sub(y2, 1n);
  const den = Fp.add(Fp.mul(D, y2), 1n);
  return Fp.mul(num, den);
}

function pointValidity(y: bigint): boolean {
  return isSquare(curveEquationProduct(y));
}

/**
 * Montgomery u (32 bytes, little-endian, canonical) of each 32-byte Ed25519 key, or `null`
 * where the bytes are not a valid point. Order is preserved.
 */
export function edwardsToMontgomeryBatch(pubs: readonly Uint8Array[]): (Uint8Array | null)[] {
  const ys = pubs.map((pub) => {
    if (pub.length !== 32) throw new RangeError(`ed25519 public key must be 32 bytes, got ${pub.length}`);
    return readY(pub);
  });
  const valid = areSquares(ys.map(curveEquationProduct));
  const denominators = ys.map((y, i) => (valid[i] ? Fp.sub(1n, y) : 0n));
  const inverses = FpInvertBatch(Fp, denominators, true);
  return ys.map((y, i) => (valid[i] ? writeLE32(Fp.mul(Fp.add(1n, y), inverses[i]!)) : null));
}
