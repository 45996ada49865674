/**
 * Euler's criterion modulo p = 2^255 − 19 for many field elements: w is a square iff
 * w^((p−1)/2) ∈ {0, 1}. This is the expensive half of Ed25519 point decompression.
 *
 * The exponentiation runs in OpenSSL through node:crypto: the raw RSA public operation
 * (no padding) with modulus p and public exponent (p−1)/2 is exactly w ↦ w^((p−1)/2) mod p.
 * That is about 6× faster than a BigInt square-and-multiply. Should the platform refuse such a
 * key (it is far below any RSA size policy), the @noble/curves field exponentiation is used.
 * Both give the same exact answer; there is no probabilistic shortcut.
 */
import { constants, createPublicKey, publicEncrypt, type KeyObject } from 'node:crypto';
import { Field } from '@noble/curves/abstract/modular.js';
import { exponentiateInParallel, workerCountFor, type RsaJwk } from './parallelEuler.ts';

export const P = 2n ** 255n - 19n;
export const Fp = Field(P);
const EULER_EXPONENT = (P - 1n) / 2n;
const P_MINUS_ONE = P - 1n;

function toBytes32BE(x: bigint): Buffer {
  return Buffer.from(x.toString(16).padStart(64, '0'), 'hex');
}

type PowFn = (w: bigint) => bigint;

const EULER_JWK: RsaJwk = {
  kty: 'RSA',
  n: toBytes32BE(P).toString('base64url'),
  e: toBytes32BE(EULER_EXPONENT).toString('base64url'),
};
let rawNativePow: ((w: Uint8Array) => Uint8Array) | undefined;

function nativePow(): PowFn | undefined {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { ...EULER_JWK }, format: 'jwk' });
  } catch {
    return undefined;
  }
  const rsaKey = { key, padding: constants.RSA_NO_PADDING };
  rawNativePow = (w) => publicEncrypt(rsaKey, w);
  const pow: PowFn = (w) => BigInt('0x' + publicEncrypt(rsaKey, toBytes32BE(w)).toString('hex'));
  // Self-check against known residues before trusting the platform's answer.
  try {
    for (const w of [2n, 4n, 9n, P - 2n, 486662n]) if (pow(w) !== Fp.pow(w, EULER_EXPONENT)) return undefined;
  } catch {
    return undefined;
  }
  return pow;
}

let powImpl: PowFn | undefined;
let backend: QuadraticResidueBackend = 'noble';

export type QuadraticResidueBackend = 'openssl' | 'noble';

function eulerPow(): PowFn {
  if (powImpl === undefined) selectQuadraticResidueBackend('openssl');
  return powImpl!;
}

/**
 * Chooses who computes the exponentiation: `openssl` (default, falls back to `noble` when the
 * platform refuses) or `noble` (BigInt). Returns the backend in use.
 */
export function selectQuadraticResidueBackend(wanted: QuadraticResidueBackend): QuadraticResidueBackend {
  const native = wanted === 'openssl' ? nativePow() : undefined;
  backend = native ? 'openssl' : 'noble';
  powImpl = native ?? ((w) => Fp.pow(w, EULER_EXPONENT));
  return backend;
}

/** The OpenSSL exponentiation on one 32-byte big-endian value (undefined without OpenSSL). */
export function opensslEulerPow(): ((w: Uint8Array) => Uint8Array) | undefined {
  if (!rawNativePow) nativePow();
  return rawNativePow;
}

export { EULER_JWK };

/** The backend in use. */
export function quadraticResidueBackend(): QuadraticResidueBackend {
  eulerPow();
  return backend;
}

function fromEuler(r: bigint): boolean {
  if (r === 1n) return true;
  if (r === P_MINUS_ONE) return false;
  throw new Error('internal: Euler criterion gave neither 1 nor -1');
}

/** True iff w (already reduced mod p) is a square in GF(p), zero included. */
export function isSquare(w: bigint): boolean {
  return w === 0n || fromEuler(eulerPow()(w));
}

/**
 * isSquare for many values. Large batches on the OpenSSL backend are spread over worker
 * threads (same exact computation, see parallelEuler.ts).
 */
export function areSquares(ws: readonly bigint[]): boolean[] {
  eulerPow();
  const nonZero = ws.filter((w) => w !== 0n);
  if (backend !== 'openssl' || !rawNativePow || workerCountFor(nonZero.length) === 0) return ws.map(isSquare);
  const packed = Buffer.from(nonZero.map((w) => w.toString(16).padStart(64, '0')).join(''), 'hex');
  const results = Buffer.from(exponentiateInParallel(packed, nonZero.length, EULER_JWK, rawNativePow).results);
  let k = 0;
  return ws.map((w) => {
    if (w === 0n) return true;
    const i = k++;
    return fromEuler(BigInt('0x' + results.toString('hex', 32 * i, 32 * i + 32)));
  });
}
