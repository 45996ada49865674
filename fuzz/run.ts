/**
 * `npm run fuzz`: every registered target with its full number of generated cases (100,000 by
 * default), printing cases, seconds and peak heap per target. Exit status 1 on the first failure,
 * with the seed and the shrunk counterexample to reproduce it.
 *
 *   npm run fuzz -- [--target NAME]... [--cases N] [--seed N]
 */
import fc from 'fast-check';
import { parseArgs } from 'node:util';
import { registeredTargets, runCase } from './registry.ts';
import './targets/index.ts';

const { values } = parseArgs({ options: { target: { type: 'string', multiple: true }, cases: { type: 'string' }, seed: { type: 'string' } } });
const chosen = registeredTargets().filter((t) => !values.target?.length || values.target.includes(t.name));
if (values.target?.length && chosen.length !== values.target.length) {
  console.error(`unknown target; known: ${registeredTargets().map((t) => t.name).join(', ')}`);
  process.exit(2);
}
const seed = values.seed ? Number(values.seed) : Date.now() ^ (process.pid << 8);
console.log(`fuzz: ${chosen.length} targets, seed ${seed}`);
let failed = false;
for (const t of chosen) {
  const cases = values.cases ? Number(values.cases) : (t.cases ?? 100_000);
  let peakHeap = 0;
  let n = 0;
  const start = performance.now();
  try {
    await fc.assert(
      fc.asyncProperty(t.input, async (x) => {
        await runCase(t, x);
        if (++n % 1000 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      }),
      { numRuns: cases, seed, endOnFailure: false },
    );
    const s = (performance.now() - start) / 1000;
    console.log(`  ${t.name.padEnd(18)} ${cases.toLocaleString('en-US').padStart(9)} cases  ${s.toFixed(1).padStart(6)} s  heap ≤ ${(peakHeap / 2 ** 20).toFixed(0)} MB  ok`);
  } catch (e) {
    failed = true;
    console.log(`  ${t.name.padEnd(18)} FAILED after ${((performance.now() - start) / 1000).toFixed(1)} s`);
    // A counterexample can be megabytes on one line: each line is cut.
    console.log(String((e as Error).message).split('\n').slice(0, 30).map((l) => (l.length > 2000 ? `${l.slice(0, 2000)}… (${l.length} characters)` : l)).join('\n'));
    // fast-check keeps the failing case's own error as the cause.
    const cause = (e as Error).cause;
    if (cause instanceof Error) console.log(`  cause: ${cause.message.split('\n').slice(0, 5).join('\n')}`);
  }
}
process.exit(failed ? 1 : 0);
