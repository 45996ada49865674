/**
 * Euler's criterion modulo p = 2^255 − 19: w is a square iff w^((p−1)/2) ∈ {0, 1}. This is the
 * expensive half of Ed25519 point decompression. It serves the JS conversion in montgomery.ts:
 * single keys, small batches, and every batch when the native addon (nativeMontgomery.ts, which
 * takes the Kronecker symbol in OpenSSL instead) is unavailable.
 *
 * The exponentiation runs in OpenSSL through node:crypto: the raw RSA public operation (no
 * padding) with modulus p and public exponent (p−1)/2 is exactly w ↦ w^((p−1)/2) mod p, about
 * 6× faster than a BigInt square-and-multiply; large batches are spread over worker threads.
 * Should the platform refuse such a key (it is far below any RSA size policy) or fail the
 * self-check, the @noble/curves field exponentiation is used. Both give the same exact answer;
 * there is no probabilistic shortcut.
 */
import { nodeCrypto } from '../nodeCrypto.ts';
import { Field } from '@noble/curves/abstract/modular.js';
import { exponentiateInParallel, workerCountFor, type RsaJwk } from './parallelEuler.ts';

export const P = 2n ** 255n - 19n;
export const Fp = Field(P);
const EULER_EXPONENT = (P - 1n) / 2n;
const P_MINUS_ONE = P - 1n;

function toBytes32BE(x: bigint): Buffer {
  return Buffer.from(x.toString(16).padStart(64, '0'), 'hex');
}

let eulerKey: RsaJwk | undefined;
/** w ↦ w^((p−1)/2) mod p as an RSA public key (n = p, e = (p−1)/2); made on first use (a one-key conversion never needs it). */
export function eulerJwk(): RsaJwk {
  return (eulerKey ??= { kty: 'RSA', n: toBytes32BE(P).toString('base64url'), e: toBytes32BE(EULER_EXPONENT).toString('base64url') });
}

export type QuadraticResidueBackend = 'openssl' | 'noble';
type BytesPow = (w: Uint8Array) => Uint8Array;

/** The OpenSSL exponentiation on 32-byte big-endian values, if the platform does it right. */
function opensslPow(): BytesPow | undefined {
  try {
    const { constants, createPublicKey, publicEncrypt } = nodeCrypto();
    const rsaKey = { key: createPublicKey({ key: { ...eulerJwk() }, format: 'jwk' }), padding: constants.RSA_NO_PADDING };
    const pow: BytesPow = (w) => publicEncrypt(rsaKey, w);
    // Self-check with values whose quadratic character is known (p ≡ 5 mod 8): −1 and 4, 9 are
    // squares, 2 and −2 are not.
    const known: [bigint, bigint][] = [
      [4n, 1n],
      [9n, 1n],
      [P - 1n, 1n],
      [2n, P_MINUS_ONE],
      [P - 2n, P_MINUS_ONE],
    ];
    for (const [w, symbol] of known) {
      if (BigInt('0x' + Buffer.from(pow(toBytes32BE(w))).toString('hex')) !== symbol) return undefined;
    }
    return pow;
  } catch {
    return undefined;
  }
}

let state: { backend: QuadraticResidueBackend; native: BytesPow | undefined } | undefined;

/**
 * Chooses who computes the exponentiation: `openssl` (default; falls back to `noble` when the
 * platform refuses) or `noble` (BigInt). Returns the backend in use.
 */
export function selectQuadraticResidueBackend(wanted: QuadraticResidueBackend): QuadraticResidueBackend {
  const native = wanted === 'openssl' ? opensslPow() : undefined;
  state = { backend: native ? 'openssl' : 'noble', native };
  return state.backend;
}

function current(): NonNullable<typeof state> {
  if (!state) selectQuadraticResidueBackend('openssl');
  return state!;
}

/** The backend in use. */
export function quadraticResidueBackend(): QuadraticResidueBackend {
  return current().backend;
}

/** The OpenSSL exponentiation (undefined when the platform cannot do it). */
export function opensslEulerPow(): BytesPow | undefined {
  return opensslPow();
}

function fromEuler(r: bigint): boolean {
  if (r === 1n) return true;
  if (r === P_MINUS_ONE) return false;
  throw new Error('internal: Euler criterion gave neither 1 nor -1');
}

function eulerOf(result: Uint8Array, offset = 0): boolean {
  return fromEuler(BigInt('0x' + Buffer.from(result.buffer, result.byteOffset + offset, 32).toString('hex')));
}

/** True iff w (already reduced mod p) is a square in GF(p), zero included. */
export function isSquare(w: bigint): boolean {
  if (w === 0n) return true;
  const { native } = current();
  return native ? eulerOf(native(toBytes32BE(w))) : fromEuler(Fp.pow(w, EULER_EXPONENT));
}

/** Below this many values the BigInt exponentiation is cheaper than setting up OpenSSL's. */
const OPENSSL_FROM = 8;

/** isSquare for many values; large batches on the OpenSSL backend use worker threads too. */
export function areSquares(ws: readonly bigint[]): boolean[] {
  if (!state && ws.length < OPENSSL_FROM) return ws.map((w) => w === 0n || fromEuler(Fp.pow(w, EULER_EXPONENT)));
  const { native } = current();
  const nonZero = ws.filter((w) => w !== 0n);
  if (!native || workerCountFor(nonZero.length) === 0) return ws.map(isSquare);
  const packed = Buffer.from(nonZero.map((w) => w.toString(16).padStart(64, '0')).join(''), 'hex');
  const { results } = exponentiateInParallel(packed, nonZero.length, eulerJwk(), native);
  let k = 0;
  return ws.map((w) => w === 0n || eulerOf(results, 32 * k++));
}
