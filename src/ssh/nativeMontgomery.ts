/**
 * The native batch conversion Ed25519 key → Montgomery u (native/bignum.c: OpenSSL's BIGNUM
 * functions, as exported by the node binary), with the reference acceptance rules of
 * montgomery.ts. Loaded only for batches (a one-key conversion never opens the addon), used
 * only after a self-check against known answers; large batches are spread over worker threads
 * that load the same addon.
 */
import { loadAddon } from '../nativeAddon.ts';
import { preparePool, startInParallel, workerCountFor } from './parallelEuler.ts';

interface BignumAddon {
  /** keys: n packed 32-byte keys (n ≤ 8192); us: 32n bytes; valid: n bytes. Returns the number of valid keys. */
  edwardsToMontgomery(keys: Uint8Array, us: Uint8Array, valid: Uint8Array): number;
}

/** Keys per addon call (its bound is 8192). */
const PER_CALL = 4096;

export interface PackedMontgomery {
  /** 32-byte little-endian u per key (zeros where invalid). */
  readonly us: Uint8Array;
  /** 1 where the key is a valid point, 0 where not. */
  readonly valid: Uint8Array;
}

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
function le(small: number): Uint8Array {
  const b = new Uint8Array(32);
  b[0] = small;
  return b;
}
const P_LE = hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
const P_MINUS = (k: number) => {
  const b = P_LE.slice();
  b[0]! -= k;
  return b;
};

/**
 * Known answers: y = 2, 7, 8 and p − 2 are not on the curve; y = 1 and p − 1 give u = 0; y = 0
 * and the non-canonical y = p give u = 1; y = 3 gives u = −2; the base point (y = 4/5, sign bit
 * as in its encoding) gives u = 9.
 */
const SELF_CHECK: readonly [Uint8Array, Uint8Array | null][] = [
  [le(2), null],
  [le(7), null],
  [le(8), null],
  [P_MINUS(2), null],
  [le(1), new Uint8Array(32)],
  [P_MINUS(1), new Uint8Array(32)],
  [le(0), le(1)],
  [P_LE, le(1)],
  [le(3), P_MINUS(2)],
  [hex('5866666666666666666666666666666666666666666666666666666666666666'), le(9)],
];

function selfCheck(addon: BignumAddon): boolean {
  const keys = new Uint8Array(32 * SELF_CHECK.length);
  SELF_CHECK.forEach(([k], i) => keys.set(k, 32 * i));
  const us = new Uint8Array(keys.length);
  const valid = new Uint8Array(SELF_CHECK.length);
  const count = addon.edwardsToMontgomery(keys, us, valid);
  if (count !== SELF_CHECK.filter(([, u]) => u).length) return false;
  return SELF_CHECK.every(([, u], i) => {
    const got = us.subarray(32 * i, 32 * i + 32);
    return u ? valid[i] === 1 && Buffer.from(got).equals(u) : valid[i] === 0;
  });
}

let state: { addon?: BignumAddon; path?: string; reason?: string } | undefined;

function load(): NonNullable<typeof state> {
  if (state) return state;
  const { addon, path, reason } = loadAddon<BignumAddon>('keybridge_bignum');
  if (!addon) return (state = { reason });
  try {
    if (selfCheck(addon)) return (state = { addon, path });
    return (state = { reason: `the native addon ${path} gives wrong answers in its self-check; rebuild it with \`node scripts/build-native.mjs\`` });
  } catch (e) {
    return (state = { reason: `the native addon ${path} fails its self-check (${(e as Error).message})` });
  }
}

/** Why the native conversion is unavailable, or undefined when it loads and passes its self-check. */
export function nativeMontgomeryUnavailableReason(): string | undefined {
  return load().reason;
}

/** True when the native conversion can be used (loads the addon on first call). */
export function nativeMontgomeryAvailable(): boolean {
  return load().addon !== undefined;
}

/** Loads the addon and starts the worker threads for large batches ahead of the first one; false when the addon is unavailable. */
export function prepareNativeEdwardsToMontgomery(): boolean {
  const { path } = load();
  if (path) preparePool({ kind: 'native', path }, PIECE);
  return path !== undefined;
}

function callAddon(addon: BignumAddon, keys: Uint8Array, us: Uint8Array, valid: Uint8Array, start: number, end: number): void {
  for (let s = start; s < end; s += PER_CALL) {
    const e = Math.min(end, s + PER_CALL);
    addon.edwardsToMontgomery(keys.subarray(32 * s, 32 * e), us.subarray(32 * s, 32 * e), valid.subarray(s, e));
  }
}

/** A conversion started on the worker threads (or already done); finish() gives its result. */
export interface PendingMontgomery {
  finish(): PackedMontgomery;
}

/** Above this many keys a started conversion is split in pieces this size (what the pool holds). */
const PIECE = 8192;

/**
 * `count` packed 32-byte Ed25519 keys → packed u values and validity bytes, natively. Batches
 * large enough for worker threads are handed to them and the call returns at once (the keys are
 * copied: the caller may reuse its buffer); finish() takes the calling thread's share and
 * collects the result. Smaller batches are converted here and now. Throws when the addon is
 * unavailable.
 */
export function startNativeEdwardsToMontgomery(keys: Uint8Array, count: number): PendingMontgomery {
  const { addon, path, reason } = load();
  if (!addon || !path) throw new Error(reason);
  if (keys.length < 32 * count) throw new RangeError('internal: fewer key bytes than keys');
  if (workerCountFor(count) > 0 && count <= PIECE) {
    const batch = startInParallel(keys, count, { kind: 'native', path }, (input, output, flags, start, end) => callAddon(addon, input, output, flags, start, end));
    return {
      finish() {
        const { results, flags } = batch.finish();
        return { us: results, valid: flags };
      },
    };
  }
  const us = new Uint8Array(32 * count);
  const valid = new Uint8Array(count);
  if (workerCountFor(count) > 0) {
    for (let s = 0; s < count; s += PIECE) {
      const e = Math.min(count, s + PIECE);
      const r = startNativeEdwardsToMontgomery(keys.subarray(32 * s, 32 * e), e - s).finish();
      us.set(r.us, 32 * s);
      valid.set(r.valid, s);
    }
  } else callAddon(addon, keys, us, valid, 0, count);
  const done = { us, valid };
  return { finish: () => done };
}
