/**
 * keybridge validate on generated repos at 1×, 4× and 16× of 1,000 machines, 200 users and
 * 5,000 sops-encrypted files (one creation rule per machine, so rule lookup matters), in one
 * run: the time (validation and the rendered table, in this process: every size built first, one
 * untimed run per size so the JIT is warm and every size is read from the page cache, then rounds
 * that time each size once in turn, best run kept), its growth against the size (wall and CPU),
 * garbage collection and heap, and the time per phase (walk, read, parse, match, table). Goals: 1× at most 0.3 s, 16× at most 16 × the 1× time.
 * Also the CLI as a user runs it at 1× (start-up included), when dist/ is built. The files carry
 * real sops metadata; their `enc` blobs are placeholders (the validator reads recipients, not
 * data keys).
 * Run: npx tsx bench/validate.ts [--scales 1,4,16]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { validateRepo } from '../src/repo/validate.ts';
import { renderTable } from '../src/repo/report.ts';

async function keys(n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await identityToRecipient(await generateIdentity()));
  return out;
}

function put(root: string, rel: string, text: string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
}

async function build(root: string, machines: number, users: number, files: number): Promise<void> {
  const m = await keys(machines);
  const u = await keys(users);
  const anchors = [...u.map((k, i) => `  - &user${i} ${k}`), ...m.map((k, i) => `  - &m${i} ${k}`)].join('\n');
  const rules = m.map((_, i) => `  - path_regex: secrets/hosts/m${i}/.*\\.yaml$\n    key_groups:\n      - age: [*user0, *user1, *m${i}]`).join('\n');
  put(root, '.sops.yaml', `keys:\n${anchors}\ncreation_rules:\n${rules}\n  - path_regex: secrets/shared/.*\\.yaml$\n    age: [*user0]\n`);
  u.forEach((k, i) => put(root, `sops/users/user${i}/key.json`, JSON.stringify([{ publickey: k, type: 'age' }])));
  m.forEach((k, i) => put(root, `sops/machines/m${i}/key.json`, JSON.stringify([{ publickey: k, type: 'age' }])));
  const enc = '-----BEGIN AGE ENCRYPTED FILE-----\n            YWdlLWVuY3J5cHRpb24ub3JnL3YxCg==\n            -----END AGE ENCRYPTED FILE-----';
  for (let f = 0; f < files; f++) {
    const mi = f % machines;
    const recips = [u[0]!, u[1]!, m[mi]!];
    const age = recips.map((r) => `        - recipient: ${r}\n          enc: |\n            ${enc}`).join('\n');
    put(root, `secrets/hosts/m${mi}/s${f}.yaml`, `password: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]\nsops:\n    age:\n${age}\n    lastmodified: "2026-01-01T00:00:00Z"\n    mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n    version: 3.9.4\n`);
  }
}

interface Run {
  s: number;
  cpu: number;
  identities: number;
  files: number;
  /** Milliseconds per phase (validateRepo's timings, plus the table). */
  phases: Record<string, number>;
  /** Garbage collection during the run (ms, from the gc performance entries) and the heap its result retains (MB). */
  gcMs: number;
  heapMB: number;
}

/** Garbage collection pauses (start, duration; ms on the performance timeline), delivered after the fact. */
const gcEntries: { start: number; ms: number }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcEntries.push({ start: e.startTime, ms: e.duration });
}).observe({ entryTypes: ['gc'] });
// A full collection before every timed run: no run pays for the garbage of the one before it
// (a 16× run just before a 1× run would otherwise slow the 1× run).
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

async function timeOnce(root: string): Promise<Run> {
  const phases: Record<string, number> = {};
  fullGc();
  const heap0 = process.memoryUsage().heapUsed;
  const start = performance.now();
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  const r = await validateRepo({ root, keysTxt: null, timings: phases });
  const t1 = performance.now();
  renderTable(r);
  phases.table = performance.now() - t1;
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  const u = process.cpuUsage(c);
  const end = performance.now();
  // What the result keeps alive: the heap after a full collection, the result still referenced.
  fullGc();
  const heapMB = (process.memoryUsage().heapUsed - heap0) / 1e6;
  await new Promise((res) => setTimeout(res, 10)); // gc entries arrive asynchronously
  const gcMs = gcEntries.filter((g) => g.start >= start && g.start < end).reduce((a, g) => a + g.ms, 0);
  if (r.problems.length) throw new Error(`unexpected problems: ${r.problems[0]!.message}`);
  return { s, cpu: (u.user + u.system) / 1e6, identities: r.identities.length, files: r.files.length, phases, gcMs, heapMB };
}

/** The validate command as a user runs it (start-up and loading the command included), best wall time. */
function cliOnce(args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 300)}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const arg = process.argv.indexOf('--scales');
const scales = arg > 0 ? process.argv[arg + 1]!.split(',').map(Number) : [1, 4, 16];
/**
 * Timed rounds: each round times every size once, in turn, so a noisy neighbour slows all sizes
 * alike; every size gets the same untimed warm-up run and the same number of timed runs (best kept).
 */
const rounds = 5;
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'keybridge.cjs');
const base = mkdtempSync(join(tmpdir(), 'keybridge-bench-validate-'));
try {
  const sizes = scales.map((scale) => ({ scale, machines: 1000 * scale, users: 200 * scale, sopsFiles: 5000 * scale, root: join(base, String(scale)) }));
  for (const z of sizes) await build(z.root, z.machines, z.users, z.sopsFiles);
  spawnSync('sync'); // the files just written are on disk: no writeback beside the timed runs
  // One untimed run per size: the JIT is warm and every size is in the page cache (not read from disk).
  for (const z of sizes) await timeOnce(z.root);
  const best = new Map<number, Run>();
  for (let i = 0; i < rounds; i++) {
    for (const z of sizes) {
      const r = await timeOnce(z.root);
      const b = best.get(z.scale);
      if (!b || r.s < b.s) best.set(z.scale, r);
    }
  }
  const results = sizes.map((z) => ({ ...z, ...best.get(z.scale)! }));
  const one = results.find((x) => x.scale === 1);
  const ratio = (x: number, y: number | undefined) => (y ? `${(x / y).toFixed(1)}×` : '—');
  console.log(`validateRepo + table in one process: per size one untimed run, then ${rounds} rounds timing every size once in turn; the best run of each size:`);
  console.log(`  size  machines  users   files   identities  wall      CPU       µs/file  wall/1×  CPU/1×  GC ms  retained MB`);
  for (const r of results) {
    console.log(`  ${`${r.scale}×`.padEnd(4)}  ${String(r.machines).padStart(8)}  ${String(r.users).padStart(5)}  ${String(r.sopsFiles).padStart(6)}  ${String(r.identities).padStart(10)}  ${r.s.toFixed(3).padStart(7)} s  ${r.cpu.toFixed(3).padStart(7)} s  ${((r.s / r.files) * 1e6).toFixed(0).padStart(7)}  ${ratio(r.s, one?.s).padStart(7)}  ${ratio(r.cpu, one?.cpu).padStart(6)}  ${r.gcMs.toFixed(0).padStart(5)}  ${r.heapMB.toFixed(0).padStart(11)}`);
  }
  const phaseNames = ['config', 'walk', 'keys', 'read', 'parse', 'match', 'rest', 'table'];
  console.log(`phases of those runs, ms (read, parse, match: the sops files; keys: key files, host keys, names):`);
  console.log(`  size  ${phaseNames.map((p) => p.padStart(7)).join('')}`);
  for (const r of results) console.log(`  ${`${r.scale}×`.padEnd(4)}  ${phaseNames.map((p) => (r.phases[p] ?? 0).toFixed(0).padStart(7)).join('')}${one && r !== one ? `   (${phaseNames.map((p) => ratio(r.phases[p] ?? 0, one.phases[p])).join(' ')} of 1×)` : ''}`);
  let cliFigure = '';
  if (one && existsSync(cli)) {
    const node = Math.min(...[0, 1, 2].map(() => cliOnce(['-e', '0'])));
    const cmd = Math.min(...[0, 1, 2].map(() => cliOnce([cli, 'validate', one.root])));
    cliFigure = `keybridge validate at 1× (dist/keybridge.cjs; start-up and loading the command included), best of 3: ${cmd.toFixed(3)} s (node -e 0: ${node.toFixed(3)} s)`;
  }
  if (one) {
    console.log(`goal 1× ≤ 0.3 s: ${one.s <= 0.3 ? 'met' : 'NOT met'} (${one.s.toFixed(3)} s)`);
    for (const r of results) if (r.scale !== 1) console.log(`goal ${r.scale}× ≤ ${r.scale} × the 1× time: ${r.s / one.s <= r.scale ? 'met' : 'NOT met'} (${(r.s / one.s).toFixed(1)}× the time, CPU ${(r.cpu / one.cpu).toFixed(1)}×, for ${r.scale}× the size)`);
  }
  console.log(cliFigure || 'keybridge validate (the CLI) not measured: dist/keybridge.cjs is missing (npm run build)');
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`);
} finally {
  if (!process.env.KEEP) rmSync(base, { recursive: true, force: true });
  else console.log(base);
}
