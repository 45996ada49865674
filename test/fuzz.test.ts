/**
 * A fixed-seed slice of the fuzz suite (fuzz/): every registered target with a few hundred
 * generated cases, so `npm test` catches a crash, hang or undocumented error the full
 * `npm run fuzz` would find.
 */
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { registeredTargets, runCase } from '../fuzz/registry.ts';
import '../fuzz/targets/index.ts';

const SEED = 20261201;
const CASES = 300;

describe('fuzz slice (fixed seed)', () => {
  for (const t of registeredTargets()) {
    it(`${t.name}: ${CASES} cases, only documented errors`, async () => {
      await fc.assert(
        fc.asyncProperty(t.input, (x) => runCase(t, x)),
        { numRuns: CASES, seed: SEED },
      );
    }, 120_000);
  }
});
