/**
 * Spreads many OpenSSL exponentiations w ↦ w^e mod n (the raw RSA public operation, see
 * quadraticResidue.ts) over worker threads, synchronously: the calling thread works too and
 * then waits on a shared counter. The workers are started once and kept (unref'd, so they never
 * hold the process open) for the batches that follow: a streamed conversion hands over one batch
 * after another without paying for new threads. Work is handed out in chunks through one shared
 * ticket word holding (batch generation, chunk index), claimed with compare-and-swap, so a worker
 * that is late for a batch can never take work from the next one. The workers run a few lines of
 * node:crypto code given as a string, so this works the same from source and from a bundle.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';

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

/** Code each worker runs: wait for a batch, claim chunks, exponentiate, count them done. */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { createPublicKey, publicEncrypt, constants } = require('node:crypto');
const { jwk, input, output, control, chunk } = workerData;
const opts = { key: createPublicKey({ key: jwk, format: 'jwk' }), padding: constants.RSA_NO_PADDING };
const inp = new Uint8Array(input);
const out = new Uint8Array(output);
const ctl = new Int32Array(control);
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
    for (let i = start; i < end; i++) {
      out.set(publicEncrypt(opts, Buffer.from(inp.subarray(32 * i, 32 * i + 32))), 32 * i);
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

/** Number of extra threads worth starting for `count` operations (0 = do it inline). */
export function workerCountFor(count: number): number {
  const cores = availableParallelism();
  if (cores < 2 || count < 2048) return 0;
  return Math.min(cores - 1, Math.floor(count / 2048), 7);
}

export interface ParallelResult {
  /** `count` 32-byte results, in input order. */
  readonly results: Uint8Array;
  /** Worker threads in the pool, and chunks they computed for this call (the rest ran on the calling thread). */
  readonly workers: number;
  readonly workerChunks: number;
}

interface Pool {
  readonly key: string;
  readonly input: Uint8Array;
  readonly output: Uint8Array;
  readonly ctl: Int32Array;
  readonly workers: Worker[];
  gen: number;
}

let pool: Pool | undefined;

function poolFor(jwk: RsaJwk, wanted: number): Pool {
  const key = `${jwk.n}.${jwk.e}`;
  if (pool && pool.key !== key) closeExponentiationPool();
  if (!pool) {
    const input = new SharedArrayBuffer(32 * CAPACITY);
    const output = new SharedArrayBuffer(32 * CAPACITY);
    const control = new SharedArrayBuffer(4 * 8);
    pool = { key, input: new Uint8Array(input), output: new Uint8Array(output), ctl: new Int32Array(control), workers: [], gen: 0 };
  }
  const p = pool;
  try {
    // Loaded on first use: a one-key conversion never starts a thread.
    const threads = wanted > p.workers.length ? (createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads')) : undefined;
    while (threads && p.workers.length < wanted) {
      const w = new threads.Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { jwk, input: p.input.buffer, output: p.output.buffer, control: p.ctl.buffer, chunk: CHUNK },
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

/** One batch of at most CAPACITY values through the pool. */
function runBatch(p: Pool, inputs: Uint8Array, count: number, inline: (value: Uint8Array) => Uint8Array): number {
  const { ctl } = p;
  p.input.set(inputs.subarray(0, 32 * count));
  p.gen = (p.gen + 1) & 0x7fff;
  const chunksBefore = Atomics.load(ctl, WORKER_CHUNKS);
  Atomics.store(ctl, DONE, 0);
  Atomics.store(ctl, TOTAL, count);
  Atomics.store(ctl, TICKET, p.gen << 16);
  Atomics.store(ctl, GEN, p.gen);
  Atomics.notify(ctl, GEN);
  for (;;) {
    const ticket = Atomics.load(ctl, TICKET);
    const index = ticket & 0xffff;
    if (index * CHUNK >= count) break;
    if (Atomics.compareExchange(ctl, TICKET, ticket, ticket + 1) !== ticket) continue;
    const start = index * CHUNK;
    const end = Math.min(count, start + CHUNK);
    for (let i = start; i < end; i++) p.output.set(inline(p.input.subarray(32 * i, 32 * i + 32)), 32 * i);
    Atomics.add(ctl, DONE, end - start);
  }
  for (let done = Atomics.load(ctl, DONE); done < count; done = Atomics.load(ctl, DONE)) {
    if (Atomics.wait(ctl, DONE, done, 10_000) === 'timed-out' && Atomics.load(ctl, DONE) === done) {
      closeExponentiationPool();
      throw new Error('internal: a worker thread stopped while converting keys');
    }
  }
  return Atomics.load(ctl, WORKER_CHUNKS) - chunksBefore;
}

/**
 * `inputs` holds `count` big-endian 32-byte values; returns their 32-byte results in order.
 * `inline` computes one value on the calling thread (same function the workers apply).
 * Falls back to the calling thread alone if workers cannot be started.
 */
export function exponentiateInParallel(inputs: Uint8Array, count: number, jwk: RsaJwk, inline: (value: Uint8Array) => Uint8Array): ParallelResult {
  const p = poolFor(jwk, workerCountFor(count));
  const results = new Uint8Array(32 * count);
  let workerChunks = 0;
  for (let start = 0; start < count; start += CAPACITY) {
    const n = Math.min(CAPACITY, count - start);
    workerChunks += runBatch(p, inputs.subarray(32 * start), n, inline);
    results.set(p.output.subarray(0, 32 * n), 32 * start);
  }
  return { results, workers: p.workers.length, workerChunks };
}
