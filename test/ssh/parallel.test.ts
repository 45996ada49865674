import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { exponentiateInParallel, workerCountFor } from '../../src/ssh/parallelEuler.ts';
import { eulerJwk, opensslEulerPow, P } from '../../src/ssh/quadraticResidue.ts';
import { edwardsToMontgomeryBatch } from '../../src/ssh/montgomery.ts';

describe('exponentiation spread over worker threads', () => {
  it('gives exactly the calling-thread results, in order, with workers taking part', () => {
    const pow = opensslEulerPow()!;
    expect(pow).toBeDefined();
    const count = 20_000;
    const inputs = randomBytes(32 * count);
    for (let i = 0; i < count; i++) inputs[32 * i]! &= 0x3f; // keep every value below p
    const r = exponentiateInParallel(inputs, count, eulerJwk(), pow);
    for (let i = 0; i < count; i += 97) {
      expect(Buffer.from(r.results.subarray(32 * i, 32 * i + 32))).toEqual(Buffer.from(pow(inputs.subarray(32 * i, 32 * i + 32))));
    }
    const one = Buffer.alloc(32);
    one[31] = 1;
    const minusOne = Buffer.from((P - 1n).toString(16), 'hex');
    for (let i = 0; i < count; i++) {
      const v = Buffer.from(r.results.subarray(32 * i, 32 * i + 32));
      expect(v.equals(one) || v.equals(minusOne)).toBe(true);
    }
    if (availableParallelism() >= 2) {
      expect(r.workers).toBeGreaterThan(0);
      expect(r.workerChunks).toBeGreaterThan(0);
    }
  });

  it('a large batch with invalid points converts like the one-by-one path', () => {
    const count = 6_000;
    expect(workerCountFor(count)).toBe(availableParallelism() >= 2 ? Math.min(availableParallelism() - 1, 2, 7) : 0);
    const pubs = Array.from({ length: count }, () => new Uint8Array(randomBytes(32)));
    const batch = edwardsToMontgomeryBatch(pubs);
    expect(batch.filter((u) => u === null).length).toBeGreaterThan(count / 4);
    for (let i = 0; i < count; i += 7) expect(batch[i]).toEqual(edwardsToMontgomeryBatch([pubs[i]!])[0]);
  });
});
