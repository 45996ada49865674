/**
 * keybridge validate on generated repos at 1×, 4× and 16× of 1,000 machines, 200 users and
 * 5,000 sops-encrypted files (one creation rule per machine, so rule lookup matters), in one
 * run: the time (validation and the rendered table) and its growth against the size. Goals: 1×
 * at most 0.3 s, 16× at most 16 × the 1× time. The files carry real sops metadata; their `enc`
 * blobs are placeholders (the validator reads recipients, not data keys).
 * Run: npx tsx bench/validate.ts [--scales 1,4,16]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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

async function timeOnce(root: string): Promise<{ s: number; cpu: number; identities: number; files: number }> {
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  const r = await validateRepo({ root, keysTxt: null });
  renderTable(r);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  const u = process.cpuUsage(c);
  if (r.problems.length) throw new Error(`unexpected problems: ${r.problems[0]!.message}`);
  return { s, cpu: (u.user + u.system) / 1e6, identities: r.identities.length, files: r.files.length };
}

const arg = process.argv.indexOf('--scales');
const scales = arg > 0 ? process.argv[arg + 1]!.split(',').map(Number) : [1, 4, 16];
const base = mkdtempSync(join(tmpdir(), 'keybridge-bench-validate-'));
try {
  const results: { scale: number; s: number; cpu: number }[] = [];
  for (const scale of scales) {
    const root = join(base, String(scale));
    const [machines, users, files] = [1000 * scale, 200 * scale, 5000 * scale];
    await build(root, machines, users, files);
    if (results.length === 0) await timeOnce(root); // warm-up (JIT) once, on the smallest size
    // best of two runs (the machine is shared and noisy)
    const a = await timeOnce(root);
    const b = await timeOnce(root);
    const best = a.s < b.s ? a : b;
    results.push({ scale, s: best.s, cpu: best.cpu });
    console.log(`${scale}×: ${machines} machines, ${users} users, ${files} encrypted files: ${best.s.toFixed(3)} s (CPU ${best.cpu.toFixed(3)} s; ${best.identities} identities, ${best.files} files checked)`);
    if (!process.env.KEEP) rmSync(root, { recursive: true, force: true });
  }
  const one = results.find((r) => r.scale === 1);
  if (one) {
    for (const r of results) if (r.scale !== 1) console.log(`${r.scale}× / 1×: ${(r.s / one.s).toFixed(1)}× the time (CPU ${(r.cpu / one.cpu).toFixed(1)}×) for ${r.scale}× the size (goal ≤ ${r.scale}×: ${r.s / one.s <= r.scale ? 'met' : 'NOT met'})`);
    console.log(`1× goal ≤ 0.3 s: ${one.s <= 0.3 ? 'met' : 'NOT met'} (${one.s.toFixed(3)} s; CPU ${one.cpu.toFixed(3)} s; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)`);
  }
} finally {
  if (!process.env.KEEP) rmSync(base, { recursive: true, force: true });
  else console.log(base);
}
