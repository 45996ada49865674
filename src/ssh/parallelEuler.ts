/**
 * Spreads per-value OpenSSL work over worker threads, synchronously: either the point conversion
 * of the native addon (native/bignum.c, see nativeMontgomery.ts: 32-byte key in, 32-byte u and a
 * validity byte out) or the exponentiation w ↦ w^e mod n as the raw RSA public operation (see
 * quadraticResidue.ts). The calling thread works too and then waits on a shared counter. The
 * workers are started once and kept (unref'd, so they never hold the process open) for the
 * batches that follow: a streamed conversion hands over one batch after another without paying
 * for new threads. Work is handed out in chunks through one shared ticket word holding (batch
 * generation, chunk index), claimed with compare-and-swap, so a worker that is late for a batch
 * can never take work from the next one. The workers run a few lines of code given as a string
 * (requiring node:crypto or the addon), so this works the same from source and from a bundle.
 */
import type { Worker } from 'node:worker_threads';
import { builtin } from '../builtin.ts';

const CHUNK = 128;
/** Values per batch the shared buffers hold (larger inputs are split into several batches). */
const CAPACITY = 32_768;

// Control words (Int32Array over a SharedArrayBuffer).
const GEN = 0; // batch generation: workers sleep on it
const TICKET = 1; // (generation & 0x7fff) << 16 | next chunk index
const DONE = 2; // values finished in this batch
const TOTAL = 3; // values in this batch
const STOP = 4; // 1: workers exit
const WORKER_CHUNKS = 5; // chunks the workers computed (statistics)

const FAILED = 6; // 1: a worker's operation threw

/** Code each worker runs: wait for a batch, claim chunks, compute them, count them done. */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { op, input, output, flags, control, chunk } = workerData;
const inp = new Uint8Array(input);
const out = new Uint8Array(output);
const flg = new Uint8Array(flags);
const ctl = new Int32Array(control);
let run;
if (op.kind === 'native') {
  const addon = require(op.path);
  run = (start, end) => addon.edwardsToMontgomery(inp.subarray(32 * start, 32 * end), out.subarray(32 * start, 32 * end), flg.subarray(start, end));
} else {
  const { createPublicKey, publicEncrypt, constants } = require('node:crypto');
  const opts = { key: createPublicKey({ key: op.jwk, format: 'jwk' }), padding: constants.RSA_NO_PADDING };
  run = (start, end) => {
    for (let i = start; i < end; i++) out.set(publicEncrypt(opts, Buffer.from(inp.subarray(32 * i, 32 * i + 32))), 32 * i);
  };
}
let seen = 0;
for (;;) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  if (Atomics.load(ctl, 4)) break;
  const gen = seen & 0x7fff;
  for (;;) {
    const ticket = Atomics.load(ctl, 1);
    const total = Atomics.load(ctl, 3);
    const index = ticket & 0xffff;
    if ((ticket >>> 16) !== gen || index * chunk >= total) break;
    if (Atomics.compareExchange(ctl, 1, ticket, ticket + 1) !== ticket) continue;
    const start = index * chunk;
    const end = Math.min(total, start + chunk);
    try {
      run(start, end);
    } catch {
      Atomics.store(ctl, 6, 1);
    }
    Atomics.add(ctl, 5, 1);
    Atomics.add(ctl, 2, end - start);
    Atomics.notify(ctl, 2);
  }
}
`;

export interface RsaJwk {
  readonly kty: 'RSA';
  readonly n: string;
  readonly e: string;
}

/** What the workers compute per value: the RSA public operation, or the native point conversion (the addon at `path`). */
export type PoolOp = { readonly kind: 'rsa'; readonly jwk: RsaJwk } | { readonly kind: 'native'; readonly path: string };

/** Computes values [start, end) of the pool's buffers on the calling thread. */
export type InlineRun = (input: Uint8Array, output: Uint8Array, flags: Uint8Array, start: number, end: number) => void;

/** Number of extra threads worth starting for `count` operations (0 = do it inline). */
export function workerCountFor(count: number): number {
  if (count < 2048) return 0;
  // node:os is loaded only here: a one-key conversion does not pay for it
  const cores = builtin('node:os').availableParallelism();
  if (cores < 2) return 0;
  return Math.min(cores - 1, Math.floor(count / 2048), 7);
}

export interface ParallelResult {
  /** `count` 32-byte results, in input order. */
  readonly results: Uint8Array;
  /** `count` flag bytes (the native conversion's validity bytes; zeros for the RSA operation). */
  readonly flags: Uint8Array;
  /** Worker threads in the pool, and chunks they computed for this call (the rest ran on the calling thread). */
  readonly workers: number;
  readonly workerChunks: number;
}

interface Pool {
  readonly key: string;
  readonly input: Uint8Array;
  readonly output: Uint8Array;
  readonly flags: Uint8Array;
  readonly ctl: Int32Array;
  readonly workers: Worker[];
  gen: number;
  /** A started batch is not finished yet. */
  busy: boolean;
  chunksBefore: number;
}

let pool: Pool | undefined;

function poolFor(op: PoolOp, wanted: number): Pool {
  const key = op.kind === 'rsa' ? `rsa:${op.jwk.n}.${op.jwk.e}` : `native:${op.path}`;
  if (pool?.busy) throw new Error('internal: a batch is already in the exponentiation pool');
  if (pool && pool.key !== key) closeExponentiationPool();
  if (!pool) {
    const input = new SharedArrayBuffer(32 * CAPACITY);
    const output = new SharedArrayBuffer(32 * CAPACITY);
    const flags = new SharedArrayBuffer(CAPACITY);
    const control = new SharedArrayBuffer(4 * 8);
    pool = { key, input: new Uint8Array(input), output: new Uint8Array(output), flags: new Uint8Array(flags), ctl: new Int32Array(control), workers: [], gen: 0, busy: false, chunksBefore: 0 };
  }
  const p = pool;
  try {
    // Loaded on first use: a one-key conversion never starts a thread.
    const threads = wanted > p.workers.length ? builtin('node:worker_threads') : undefined;
    while (threads && p.workers.length < wanted) {
      const w = new threads.Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { op, input: p.input.buffer, output: p.output.buffer, flags: p.flags.buffer, control: p.ctl.buffer, chunk: CHUNK },
        resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 },
      });
      w.unref();
      w.on('error', () => undefined);
      p.workers.push(w);
    }
  } catch {
    // No worker threads here: the calling thread does all the work.
  }
  return p;
}

/** Starts the workers a batch of `count` values would use, now (they start while the caller reads its input). */
export function preparePool(op: PoolOp, count: number): void {
  if (!pool?.busy) poolFor(op, workerCountFor(count));
}

/** Stops the worker threads (they are unref'd, so this is optional). */
export function closeExponentiationPool(): void {
  const p = pool;
  pool = undefined;
  if (!p) return;
  Atomics.store(p.ctl, STOP, 1);
  Atomics.add(p.ctl, GEN, 1);
  Atomics.notify(p.ctl, GEN);
  for (const w of p.workers) void w.terminate();
}

/** A batch handed to the workers; the calling thread takes its share and collects it with finish(). */
export interface PendingBatch {
  finish(): ParallelResult;
}

/** Hands one batch of at most CAPACITY values to the workers (they start at once). */
function startBatch(p: Pool, inputs: Uint8Array, count: number): void {
  const { ctl } = p;
  if (p.busy) throw new Error('internal: a batch is already in the exponentiation pool');
  p.busy = true;
  p.input.set(inputs.subarray(0, 32 * count));
  Atomics.store(ctl, FAILED, 0);
  p.gen = (p.gen + 1) & 0x7fff;
  p.chunksBefore = Atomics.load(ctl, WORKER_CHUNKS);
  Atomics.store(ctl, DONE, 0);
  Atomics.store(ctl, TOTAL, count);
  Atomics.store(ctl, TICKET, p.gen << 16);
  Atomics.store(ctl, GEN, p.gen);
  Atomics.notify(ctl, GEN);
}

/** Computes the chunks no worker has taken, waits for the others; returns the chunks the workers computed. */
function finishBatch(p: Pool, count: number, inline: InlineRun): number {
  const { ctl } = p;
  try {
    for (;;) {
      const ticket = Atomics.load(ctl, TICKET);
      const index = ticket & 0xffff;
      if (index * CHUNK >= count) break;
      if (Atomics.compareExchange(ctl, TICKET, ticket, ticket + 1) !== ticket) continue;
      const start = index * CHUNK;
      const end = Math.min(count, start + CHUNK);
      try {
        inline(p.input, p.output, p.flags, start, end);
      } catch (e) {
        // Let the workers finish this batch before the error leaves.
        Atomics.store(ctl, FAILED, 1);
        Atomics.add(ctl, DONE, end - start);
        waitDone(ctl, count);
        throw e;
      }
      Atomics.add(ctl, DONE, end - start);
    }
    waitDone(ctl, count);
  } finally {
    p.busy = false;
  }
  if (Atomics.load(ctl, FAILED)) throw new Error('internal: a worker thread failed while converting keys');
  return Atomics.load(ctl, WORKER_CHUNKS) - p.chunksBefore;
}

function waitDone(ctl: Int32Array, count: number): void {
  for (let done = Atomics.load(ctl, DONE); done < count; done = Atomics.load(ctl, DONE)) {
    if (Atomics.wait(ctl, DONE, done, 10_000) === 'timed-out' && Atomics.load(ctl, DONE) === done) {
      closeExponentiationPool();
      throw new Error('internal: a worker thread stopped while converting keys');
    }
  }
}

/**
 * Starts `count` (≤ CAPACITY) 32-byte values on the workers and returns at once: the caller
 * can do other work (read the next lines) while they compute. finish() computes what the
 * workers have not taken on the calling thread with `inline` (what the workers do for `op`) and
 * returns the 32-byte results and flag bytes in order. One batch at a time per pool: finish it
 * before starting the next. Without workers, everything is computed in finish().
 */
export function startInParallel(inputs: Uint8Array, count: number, op: PoolOp, inline: InlineRun): PendingBatch {
  if (count > CAPACITY) throw new RangeError(`internal: at most ${CAPACITY} values per started batch`);
  if (pool?.busy) {
    // Another caller's batch is in the pool (two conversions interleaved): this one runs here, in finish().
    const input = new Uint8Array(inputs.subarray(0, 32 * count)); // a copy (Buffer#slice would be a view)
    return {
      finish() {
        const results = new Uint8Array(32 * count);
        const flags = new Uint8Array(count);
        inline(input, results, flags, 0, count);
        return { results, flags, workers: 0, workerChunks: 0 };
      },
    };
  }
  const p = poolFor(op, workerCountFor(count));
  startBatch(p, inputs, count);
  return {
    finish() {
      const workerChunks = finishBatch(p, count, inline);
      return { results: p.output.slice(0, 32 * count), flags: p.flags.slice(0, count), workers: p.workers.length, workerChunks };
    },
  };
}

/**
 * `inputs` holds `count` 32-byte values; returns their 32-byte results (and flag bytes) in order.
 * `inline` computes values on the calling thread (what the workers do for `op`). Falls back to
 * the calling thread alone if workers cannot be started.
 */
export function computeInParallel(inputs: Uint8Array, count: number, op: PoolOp, inline: InlineRun): ParallelResult {
  const results = new Uint8Array(32 * count);
  const flags = new Uint8Array(count);
  let workers = 0;
  let workerChunks = 0;
  for (let start = 0; start < count; start += CAPACITY) {
    const n = Math.min(CAPACITY, count - start);
    const r = startInParallel(inputs.subarray(32 * start), n, op, inline).finish();
    results.set(r.results, 32 * start);
    flags.set(r.flags, start);
    workers = r.workers;
    workerChunks += r.workerChunks;
  }
  return { results, flags, workers, workerChunks };
}

/** The RSA public operation (`pow`, one big-endian 32-byte value) over the pool. */
export function exponentiateInParallel(inputs: Uint8Array, count: number, jwk: RsaJwk, pow: (value: Uint8Array) => Uint8Array): ParallelResult {
  return computeInParallel(inputs, count, { kind: 'rsa', jwk }, (input, output, _flags, start, end) => {
    for (let i = start; i < end; i++) output.set(pow(input.subarray(32 * i, 32 * i + 32)), 32 * i);
  });
}
