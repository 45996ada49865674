/**
 * Spreads many OpenSSL exponentiations w ↦ w^e mod n (the raw RSA public operation, see
 * quadraticResidue.ts) over worker threads, synchronously: the calling thread works too and
 * then waits on a shared counter. Work is handed out in chunks from a shared index, so a
 * worker that starts late simply takes fewer chunks. The workers run a few lines of
 * node:crypto code given as a string, so this works the same from source and from a bundle.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const CHUNK = 512;

/** Code each worker runs: take chunks, exponentiate, write results, count them done. */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { createPublicKey, publicEncrypt, constants } = require('node:crypto');
const { jwk, input, output, control, total, chunk } = workerData;
const opts = { key: createPublicKey({ key: jwk, format: 'jwk' }), padding: constants.RSA_NO_PADDING };
const inp = new Uint8Array(input);
const out = new Uint8Array(output);
const ctl = new Int32Array(control);
for (;;) {
  const start = Atomics.add(ctl, 0, chunk);
  if (start >= total) break;
  const end = Math.min(total, start + chunk);
  for (let i = start; i < end; i++) {
    out.set(publicEncrypt(opts, Buffer.from(inp.subarray(32 * i, 32 * i + 32))), 32 * i);
  }
  Atomics.add(ctl, 2, 1);
  Atomics.add(ctl, 1, end - start);
  Atomics.notify(ctl, 1);
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
  if (cores < 2 || count < 8 * CHUNK) return 0;
  return Math.min(cores - 1, Math.floor(count / (4 * CHUNK)), 7);
}

export interface ParallelResult {
  /** `count` 32-byte results, in input order. */
  readonly results: Uint8Array;
  /** Worker threads started, and chunks they computed (the rest ran on the calling thread). */
  readonly workers: number;
  readonly workerChunks: number;
}

/**
 * `inputs` holds `count` big-endian 32-byte values; returns their 32-byte results in order.
 * `inline` computes one value on the calling thread (same function the workers apply).
 * Falls back to the calling thread alone if workers cannot be started.
 */
export function exponentiateInParallel(
  inputs: Uint8Array,
  count: number,
  jwk: RsaJwk,
  inline: (value: Uint8Array) => Uint8Array,
): ParallelResult {
  const input = new SharedArrayBuffer(32 * count);
  new Uint8Array(input).set(inputs.subarray(0, 32 * count));
  const output = new SharedArrayBuffer(32 * count);
  const control = new SharedArrayBuffer(12);
  const ctl = new Int32Array(control);
  const inp = new Uint8Array(input);
  const out = new Uint8Array(output);
  const workers: Worker[] = [];
  try {
    for (let k = workerCountFor(count); k > 0; k--) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { jwk, input, output, control, total: count, chunk: CHUNK } });
      w.unref();
      w.on('error', () => undefined);
      workers.push(w);
    }
  } catch {
    // No worker threads here: the calling thread does all the work below.
  }
  for (;;) {
    const start = Atomics.add(ctl, 0, CHUNK);
    if (start >= count) break;
    const end = Math.min(count, start + CHUNK);
    for (let i = start; i < end; i++) out.set(inline(inp.subarray(32 * i, 32 * i + 32)), 32 * i);
    Atomics.add(ctl, 1, end - start);
  }
  for (let done = Atomics.load(ctl, 1); done < count; done = Atomics.load(ctl, 1)) {
    if (Atomics.wait(ctl, 1, done, 10_000) === 'timed-out' && Atomics.load(ctl, 1) === done) {
      for (const w of workers) void w.terminate();
      throw new Error('internal: a worker thread stopped while converting keys');
    }
  }
  for (const w of workers) void w.terminate();
  return { results: new Uint8Array(output.slice(0)), workers: workers.length, workerChunks: Atomics.load(ctl, 2) };
}
