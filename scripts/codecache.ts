/**
 * Makes the V8 code caches of each age plugin's files (dist/lib/age-plugin-X/<file>.cache), run
 * by scripts/build.mjs with the node that builds: each plugin runs what the start-up benchmark
 * times — an identity-v1 request up to its first card access and a recipient-v1 wrap as age sends
 * them (scripts/pluginRequests.ts), then --help and --version — and its loader
 * (dist/age-plugin-X.cjs) writes the cache of each file it loaded to the directory given in
 * KEYBRIDGE_CODE_CACHE_OUT when the process exits. Each run reads the caches the runs before it
 * wrote, so the last cache of a file holds what every mode compiled in it. With LISTS, the names
 * of the files each run loaded go to LISTS/age-plugin-X.<mode> (mode: identity-v1, recipient-v1,
 * help, version), from which the build makes each plugin's pack.
 *
 *   node build/codecache.mjs DIST [LISTS]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noCardEnv, pluginRequests, runPlugin } from './pluginRequests.ts';

const dist = process.argv[2]!;
const lists = process.argv[3];
const dir = mkdtempSync(join(tmpdir(), 'kb-codecache-'));
try {
  for (const p of await pluginRequests()) {
    const name = `age-plugin-${p.name}`;
    const exe = join(dist, `${name}.cjs`);
    const base = { ...noCardEnv(dir), KEYBRIDGE_CODE_CACHE_OUT: join(dist, 'lib', name) };
    const env = (mode: string) => (lists ? { ...base, KEYBRIDGE_CODE_CACHE_LIST: join(lists, `${name}.${mode}`) } : base);
    const i = await runPlugin([exe, '--age-plugin=identity-v1'], p.identityV1, env('identity-v1'));
    if (i.status !== 0 || !/^-> /.test(i.stdout)) throw new Error(`${name} identity-v1 failed (exit ${i.status}): ${i.stderr.slice(0, 300)}`);
    const r = await runPlugin([exe, '--age-plugin=recipient-v1'], p.recipientV1, env('recipient-v1'));
    if (r.status !== 0 || !p.recipientReply.test(r.stdout)) throw new Error(`${name} recipient-v1 failed (exit ${r.status}): ${r.stderr.slice(0, 300)}`);
    for (const flag of ['--help', ...(p.version ? ['--version'] : [])]) {
      const f = spawnSync(process.execPath, [exe, flag], { env: env(flag.slice(2)), encoding: 'utf8' });
      if (f.status !== 0) throw new Error(`${name} ${flag} failed (exit ${f.status}): ${f.stderr.slice(0, 300)}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
