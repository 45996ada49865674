/**
 * Start-up of the one-shot commands next to a bare `node -e 0`, measured in one run: the
 * commands are run in interleaved rounds (so a noisy neighbour hits all of them alike) and the
 * best wall time of each is compared with the best of `node -e 0`.
 *
 *   npx tsx bench/startup.ts [ROUNDS]     (default 15)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const FIX = join(ROOT, 'test', 'fixtures', 'ssh-to-age');
const ROUNDS = Number(process.argv[2] ?? 15);

const dir = mkdtempSync(join(tmpdir(), 'kb-bench-start-'));
const exportFile = join(dir, 'bitwarden.json');
writeFileSync(exportFile, JSON.stringify({ encrypted: false, items: [{ id: 'a', name: 'sops-bench-ssh', type: 5, sshKey: { publicKey: readFileSync(join(FIX, 'id_ed25519.pub'), 'utf8').trim(), privateKey: readFileSync(join(FIX, 'id_ed25519'), 'utf8') } }] }));
const pub = readFileSync(join(FIX, 'id_ed25519.pub'));

interface Case {
  name: string;
  args: string[];
  input?: Uint8Array;
  /** Expected first line of stdout (a wrong answer is not a measurement). */
  expect: RegExp;
}

const node = process.execPath;
const cases: Case[] = [
  { name: 'node -e 0', args: ['-e', '0'], expect: /^$/ },
  { name: 'ssh-to-age < one public key', args: [join(DIST, 'ssh-to-age.cjs')], input: pub, expect: /^age1/ },
  { name: 'ssh-to-age -private-key -i key', args: [join(DIST, 'ssh-to-age.cjs'), '-private-key', '-i', join(FIX, 'id_ed25519')], expect: /^AGE-SECRET-KEY-1/ },
  { name: 'ssh-to-age -version', args: [join(DIST, 'ssh-to-age.cjs'), '-version'], expect: /^1\.3\.0/ },
  { name: 'keybridge --version', args: [join(DIST, 'keybridge.cjs'), '--version'], expect: /^keybridge / },
  { name: 'keybridge --help', args: [join(DIST, 'keybridge.cjs'), '--help'], expect: /^keybridge / },
  { name: 'keybridge bw derive (export)', args: [join(DIST, 'keybridge.cjs'), 'bw', 'derive', 'sops-bench-ssh', '--export', exportFile], expect: /^age1/ },
  { name: 'keybridge bw derive --identity', args: [join(DIST, 'keybridge.cjs'), 'bw', 'derive', 'sops-bench-ssh', '--export', exportFile, '--identity'], expect: /^age1/ },
  { name: 'age-plugin-yubikey --version', args: [join(DIST, 'age-plugin-yubikey.mjs'), '--version'], expect: /^age-plugin-yubikey / },
];

function once(c: Case): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(node, c.args, { input: c.input ?? new Uint8Array(0), maxBuffer: 1 << 20 });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 || !c.expect.test(r.stdout.toString())) throw new Error(`${c.name} failed: ${r.stderr.toString().slice(0, 300)}`);
  return wall;
}

const best = new Map<string, number>(cases.map((c) => [c.name, Infinity]));
for (const c of cases) once(c); // warm the page cache
for (let r = 0; r < ROUNDS; r++) for (const c of cases) best.set(c.name, Math.min(best.get(c.name)!, once(c)));
const base = best.get('node -e 0')!;
console.log(`start-up, best wall time of ${ROUNDS} interleaved rounds, and the ratio to node -e 0`);
for (const c of cases) {
  const ms = best.get(c.name)!;
  console.log(`  ${c.name.padEnd(34)} ${ms.toFixed(1).padStart(6)} ms  ${(ms / base).toFixed(2)}×`);
}
