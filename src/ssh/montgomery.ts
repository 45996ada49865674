/**
 * Ed25519 public key (compressed Edwards point) → X25519 public key (Montgomery u), with the
 * exact acceptance rules of filippo.io/edwards25519 `Point.SetBytes` + `BytesMontgomery`, which
 * the reference ssh-to-age uses:
 * - the sign bit is ignored and y need not be reduced (y ≥ p is accepted, taken mod p);
 * - the encoding is valid iff x² = (y² − 1) / (d·y² + 1) has a solution in GF(p);
 * - u = (1 + y) / (1 − y), where 1/0 is taken as 0 (so y = 1 gives u = 0).
 * Small-order and mixed-order points are accepted, as the reference does.
 *
 * Many keys are converted together. Batches of NATIVE_FROM keys or more go to the native addon
 * (nativeMontgomery.ts: OpenSSL's BIGNUM functions); smaller ones, or all when the addon is not
 * built or fails its self-check, to @noble/curves field arithmetic, where the divisions share one
 * field inversion (Montgomery's trick), leaving one exponentiation per key for the validity
 * check (OpenSSL's through node:crypto, see quadraticResidue.ts, or BigInt).
 */
import { FpInvertBatch } from '@noble/curves/abstract/modular.js';
import { Fp, P, areSquares, isSquare, quadraticResidueBackend, selectQuadraticResidueBackend, type QuadraticResidueBackend } from './quadraticResidue.ts';
import { nativeMontgomeryAvailable, prepareNativeEdwardsToMontgomery, startNativeEdwardsToMontgomery, type PackedMontgomery, type PendingMontgomery } from './nativeMontgomery.ts';

export type { PackedMontgomery, PendingMontgomery } from './nativeMontgomery.ts';

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

export type MontgomeryBackend = 'native' | QuadraticResidueBackend;

/**
 * Batches from this many keys use the native addon; a one-key conversion never loads it. Loading
 * it and its self-check cost about 5 ms here, what the JS path (OpenSSL exponentiation through
 * node:crypto, about 45 µs a key in small batches) spends on 100–150 keys; once loaded, the
 * addon is about 3× faster per key.
 */
export const NATIVE_FROM = 128;

/** KEYBRIDGE_NO_NATIVE_BIGNUM=1 keeps the addon unloaded (the JS backends then do all the work). */
let nativeWanted = process.env.KEYBRIDGE_NO_NATIVE_BIGNUM !== '1';

/**
 * Chooses the backend for batches: `native` (the addon; when it is unavailable, the point check
 * falls back to `openssl`, then `noble`), or `openssl` / `noble` for the JS conversion alone.
 * Returns the backend that large batches now use.
 */
export function selectMontgomeryBackend(wanted: MontgomeryBackend): MontgomeryBackend {
  nativeWanted = wanted === 'native';
  const check = selectQuadraticResidueBackend(wanted === 'native' ? 'openssl' : wanted);
  return nativeWanted && nativeMontgomeryAvailable() ? 'native' : check;
}

/** The backend a batch of `count` keys uses (loads the addon to find out, for `count` ≥ NATIVE_FROM). */
export function montgomeryBackend(count = NATIVE_FROM): MontgomeryBackend {
  return usesNative(count) ? 'native' : quadraticResidueBackend();
}

/** For an input known to be large: loads the native addon and starts its worker threads now, while the first keys are read. */
export function prepareLargeConversion(): void {
  if (nativeWanted) prepareNativeEdwardsToMontgomery();
}

function usesNative(count: number): boolean {
  return nativeWanted && count >= NATIVE_FROM && nativeMontgomeryAvailable();
}

/** The JS conversion of `count` packed keys. */
function jsEdwardsToMontgomery(keys: Uint8Array, count: number): PackedMontgomery {
  const ys: bigint[] = [];
  for (let i = 0; i < count; i++) ys.push(readY(keys.subarray(32 * i, 32 * i + 32)));
  const valid = Uint8Array.from(areSquares(ys.map(curveEquationProduct)), Number);
  const denominators = ys.map((y, i) => (valid[i] ? Fp.sub(1n, y) : 0n));
  const inverses = FpInvertBatch(Fp, denominators, true);
  const us = new Uint8Array(32 * count);
  ys.forEach((y, i) => {
    if (valid[i]) us.set(writeLE32(Fp.mul(Fp.add(1n, y), inverses[i]!)), 32 * i);
  });
  return { us, valid };
}

/**
 * Montgomery u of `count` packed 32-byte Ed25519 keys: 32 bytes each (little-endian, canonical;
 * zeros where invalid) and a validity byte each (1 valid point, 0 not).
 */
export function edwardsToMontgomeryPacked(keys: Uint8Array, count: number): PackedMontgomery {
  return startEdwardsToMontgomeryPacked(keys, count).finish();
}

/**
 * edwardsToMontgomeryPacked, started: on the native backend a large batch is computed by worker
 * threads while the caller goes on (reading the next keys into its buffer is fine: the keys are
 * copied); finish() collects the result. Other batches are converted before this returns.
 */
export function startEdwardsToMontgomeryPacked(keys: Uint8Array, count: number): PendingMontgomery {
  if (keys.length < 32 * count) throw new RangeError(`expected ${count} packed 32-byte keys, got ${keys.length} bytes`);
  if (usesNative(count)) return startNativeEdwardsToMontgomery(keys, count);
  const done = jsEdwardsToMontgomery(keys, count);
  return { finish: () => done };
}

/**
 * Montgomery u (32 bytes, little-endian, canonical) of each 32-byte Ed25519 key, or `null`
 * where the bytes are not a valid point. Order is preserved.
 */
export function edwardsToMontgomeryBatch(pubs: readonly Uint8Array[]): (Uint8Array | null)[] {
  const keys = new Uint8Array(32 * pubs.length);
  pubs.forEach((pub, i) => {
    if (pub.length !== 32) throw new RangeError(`ed25519 public key must be 32 bytes, got ${pub.length}`);
    keys.set(pub, 32 * i);
  });
  const { us, valid } = edwardsToMontgomeryPacked(keys, pubs.length);
  return pubs.map((_, i) => (valid[i] ? us.slice(32 * i, 32 * i + 32) : null));
}
