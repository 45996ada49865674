/**
 * Makes the V8 code cache of each age plugin's bundle (dist/lib/age-plugin-X.cjs.cache), run by
 * scripts/build.mjs with the node that builds: each plugin runs a recipient-v1 wrap as age sends
 * it (scripts/pluginRequests.ts), and its loader (dist/age-plugin-X.cjs) writes the cache of
 * what was compiled to the path given in KEYBRIDGE_CODE_CACHE_OUT when the process exits.
 *
 *   node build/codecache.mjs DIST
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noCardEnv, pluginRequests, runPlugin } from './pluginRequests.ts';

const dist = process.argv[2]!;
const dir = mkdtempSync(join(tmpdir(), 'kb-codecache-'));
try {
  for (const p of await pluginRequests()) {
    const name = `age-plugin-${p.name}`;
    const out = join(dist, 'lib', `${name}.cjs.cache`);
    const r = await runPlugin([join(dist, `${name}.cjs`), '--age-plugin=recipient-v1'], p.recipientV1, { ...noCardEnv(dir), KEYBRIDGE_CODE_CACHE_OUT: out });
    if (r.status !== 0 || !p.recipientReply.test(r.stdout)) throw new Error(`${name} recipient-v1 failed (exit ${r.status}): ${r.stderr.slice(0, 300)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
