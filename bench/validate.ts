/**
 * keybridge validate on a generated repo of 1,000 machines, 200 users and 5,000 sops-encrypted
 * files (plus half and quarter sizes, to see the growth). Goal: under 1 s for the full size,
 * growing linearly. The files carry real sops metadata; their `enc` blobs are placeholders (the
 * validator reads recipients, not data keys).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { validateRepo } from '../src/repo/validate.ts';

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
  put(root, '.sops.yaml', `keys:\n${anchors}\ncreation_rules:\n${rules}\n`);
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

const base = mkdtempSync(join(tmpdir(), 'keybridge-bench-validate-'));
try {
  const results: [number, number][] = [];
  for (const scale of [0.25, 0.5, 1]) {
    const root = join(base, String(scale));
    const [machines, users, files] = [1000 * scale, 200 * scale, 5000 * scale];
    await build(root, machines, users, files);
    await validateRepo({ root, keysTxt: null }); // warm-up (file cache, JIT)
    const t = process.hrtime.bigint();
    const r = await validateRepo({ root, keysTxt: null });
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    if (r.problems.length) throw new Error(`unexpected problems: ${r.problems[0]!.message}`);
    results.push([files, s]);
    console.log(`${machines} machines, ${users} users, ${files} encrypted files: ${s.toFixed(3)} s (${r.identities.length} identities, ${r.files.length} files checked)`);
  }
  const [[f0, s0], , [f2, s2]] = results as [[number, number], [number, number], [number, number]];
  console.log(`growth from ${f0} to ${f2} files: ${(s2 / s0).toFixed(1)}x time for ${(f2 / f0).toFixed(0)}x size (linear = 4x); goal < 1 s at full size: ${s2 < 1 ? 'met' : 'NOT met'}`);
} finally {
  rmSync(base, { recursive: true, force: true });
}
