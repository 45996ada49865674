/**
 * `keybridge validate` on an example clan + sops-nix + agenix repo built with real age
 * encryption (src/repo/exampleRepo.ts), with one deliberate fault of each kind: every fault is
 * reported, nothing else. Plus the real sops files from getsops/sops (fixtures) as interop input.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildExampleRepo, type ExampleRepo } from '../../src/repo/exampleRepo.ts';
import { validateRepo, type ValidationResult } from '../../src/repo/validate.ts';
import { exportSource } from '../../src/bitwarden/source.ts';
import { ROOT, keybridge } from '../helpers/run.ts';
import { findTool, itWith } from '../helpers/tools.ts';

const FIXTURES = '/work/shared/fixtures/sops-age';
const age = findTool('age');
let faulty: ExampleRepo;
let clean: ExampleRepo;

function subjectOf(p: ValidationResult['problems'][number]): string {
  if (p.kind === 'mismatch') return p.identity!;
  if (p.kind === 'stale') return 'keys.txt';
  if (p.kind === 'unreadable' && p.message.startsWith('Bitwarden item sops-')) return /Bitwarden item sops-(\S+?)-ssh:/.exec(p.message)![1]!;
  return p.file!;
}

beforeAll(async () => {
  if (age.missing) return;
  const base = mkdtempSync(join(tmpdir(), 'keybridge-repo-'));
  faulty = await buildExampleRepo(join(base, 'faulty'), { faults: true });
  clean = await buildExampleRepo(join(base, 'clean'), { faults: false });
  for (const r of [faulty, clean]) for (const f of ['example.yaml', 'example.json', 'example.ini']) cpSync(join(FIXTURES, f), join(r.root, 'secrets/upstream', f));
});

describe('validate: the example repo', () => {
  itWith([age])('reports every planted fault and nothing else', async () => {
    const r = await validateRepo({ root: faulty.root, keysTxt: faulty.keysTxt, bitwarden: await exportSource(faulty.bitwardenExport) });
    const got = r.problems.map((p) => ({ kind: p.kind, subject: subjectOf(p) }));
    expect(got.sort((a, b) => a.subject.localeCompare(b.subject))).toEqual([...faulty.faults].sort((a, b) => a.subject.localeCompare(b.subject)));
    expect(faulty.faults).toHaveLength(10);
    // every problem carries the command that fixes it
    const fixes = Object.fromEntries(r.problems.map((p) => [subjectOf(p), p.fix]));
    expect(fixes['secrets/shared.yaml']).toBe('sops updatekeys -y secrets/shared.yaml');
    expect(fixes['sops/secrets/tf-passphrase/secret']).toBe('clan secrets key update');
    expect(fixes['agenix/wireguard.age']).toMatch(/^agenix -r/);
    expect(fixes['stibnite']).toMatch(/^clan secrets machines add --force stibnite age1\w+ && clan secrets key update$/);
    expect(fixes['raquel']).toMatch(/^set &raquel-user in \.sops\.yaml \(line 3\) to age1\w+, then: sops updatekeys -y secrets\/services\/grafana\.yaml secrets\/shared\.yaml$/);
    expect(fixes['keys.txt']).toContain('keybridge bw sync');
    // clan vars fix compares only the sidecar with clan.nix: a header that disagrees with its sidecar is re-encrypted by hand
    expect(fixes['secrets/age-keys/machines/electrum/key.age']).toMatch(/^age -d -i \S+ secrets\/age-keys\/machines\/electrum\/key\.age \| age -R secrets\/age-keys\/machines\/electrum\/key\.age\.recipients -o \S+\.new && mv /);
    // the upstream sops files (yaml, json, ini) were read and match their rule
    const upstream = r.files.filter((f) => f.file.startsWith('secrets/upstream/'));
    expect(upstream.map((f) => f.file).sort()).toEqual(['secrets/upstream/example.ini', 'secrets/upstream/example.json', 'secrets/upstream/example.yaml']);
    expect(upstream.every((f) => f.actual.length === 2)).toBe(true);
    // the table shows each identity in each context
    expect(r.identities).toEqual(['cinnabar', 'crs58', 'electrum', 'galena', 'raquel', 'stibnite']);
    expect(r.contexts).toEqual(['bitwarden', 'clan', 'sops-anchor', 'agenix', 'ssh-host-key', 'clan-age', 'keys.txt']);
  });

  itWith([age])('a consistent repo passes', async () => {
    const r = await validateRepo({ root: clean.root, keysTxt: clean.keysTxt, bitwarden: await exportSource(clean.bitwardenExport) });
    expect(r.problems).toEqual([]);
    expect(r.files.length).toBe(14);
  });

  itWith([age])('CLI: table, --json, --format github, exit codes 0 / 1 / 2', async () => {
    const table = await keybridge(['validate', faulty.root, '--keys', faulty.keysTxt, '--bw-export', faulty.bitwardenExport]);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/^identity +Bitwarden +clan key\.json +\.sops\.yaml +secrets\.nix +SSH host key +clan age pub +keys\.txt$/m);
    // cells show keys as the context stores them: Bitwarden and secrets.nix as ssh-ed25519
    expect(table.stdout).toMatch(/^raquel +✓ ssh-ed25519 …\S+ +✓ age1\S+ +✗ age1\S+ +✓ ssh-ed25519 …\S+/m);
    expect(table.stdout).toContain('10 problem(s):');
    expect(table.stdout).toContain('    fix: sops updatekeys -y secrets/shared.yaml');
    expect(table.stdout).not.toMatch(/AGE-SECRET-KEY-1/);
    const json = await keybridge(['validate', faulty.root, '--keys', faulty.keysTxt, '--json']);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.ok).toBe(false);
    expect(parsed.problems.length).toBe(9); // without Bitwarden the RSA item cannot show
    const gh = await keybridge(['validate', faulty.root, '--no-keys', '--format', 'github']);
    expect(gh.stdout).toMatch(/^::error file=secrets\/shared\.yaml::secrets\/shared\.yaml: not encrypted to .* — fix: sops updatekeys -y secrets\/shared\.yaml$/m);
    const ok = await keybridge(['validate', clean.root, '--keys', clean.keysTxt, '--bw-export', clean.bitwardenExport]);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toContain('All keys correspond and every file is encrypted to its rule.');
    const missing = await keybridge(['validate', join(clean.root, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/is not a directory/);
    const broken = mkdtempSync(join(tmpdir(), 'keybridge-broken-'));
    writeFileSync(join(broken, '.sops.yaml'), 'creation_rules: [\n');
    const bad = await keybridge(['validate', broken]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^keybridge validate: \.sops\.yaml:2: invalid YAML/);
    expect((await keybridge(['validate', '--format', 'xml'])).code).toBe(2);
  });

  itWith([age])("the identity of the user running the check must be in keys.txt", async () => {
    const empty = join(clean.root, '..', 'empty-keys.txt');
    writeFileSync(empty, '');
    const r = await validateRepo({ root: clean.root, keysTxt: empty, user: 'crs58' });
    expect(r.problems.map((p) => [p.kind, p.identity, p.fix])).toEqual([['missing', 'crs58', 'keybridge bw sync']]);
    const other = await validateRepo({ root: clean.root, keysTxt: empty, user: 'root' });
    expect(other.problems).toEqual([]);
  });

  itWith([age])('ssh-keyscan output as host keys (--host-keys)', async () => {
    const cinnabar = readFileSync(join(clean.root, 'hosts/cinnabar/ssh_host_ed25519_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
    const other = readFileSync(join(faulty.root, 'hosts/cinnabar/ssh_host_ed25519_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
    const scan = join(clean.root, '..', 'keyscan.txt');
    writeFileSync(scan, `# cinnabar.example.org:22 SSH-2.0-OpenSSH_9.6\ncinnabar.example.org ${cinnabar}\n[galena]:2222 ${other}\n`);
    const r = await validateRepo({ root: clean.root, keysTxt: null, hostKeyScan: { path: 'keyscan.txt', text: readFileSync(scan, 'utf8') } });
    expect(r.sightings.filter((s) => s.where.startsWith('keyscan.txt')).map((s) => [s.identity, s.where])).toEqual([['cinnabar', 'keyscan.txt:2'], ['galena', 'keyscan.txt:3']]);
    expect(r.problems.map((p) => p.identity)).toEqual(['galena']);
    const cli = await keybridge(['validate', clean.root, '--no-keys', '--host-keys', scan, '--json']);
    expect(JSON.parse(cli.stdout).problems).toHaveLength(1);
  });
});

describe('validate: the committed fixture repo (test/fixtures/secrets-repo)', () => {
  it('reports exactly the faults recorded with it (public material only: no keys.txt)', async () => {
    const root = join(ROOT, 'test/fixtures/secrets-repo');
    const r = await validateRepo({ root, keysTxt: null, bitwarden: await exportSource(join(ROOT, 'test/fixtures/secrets-repo-bitwarden.json')) });
    const expected = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/secrets-repo-faults.json'), 'utf8')) as { kind: string; subject: string }[];
    const got = r.problems.map((p) => ({ kind: p.kind, subject: subjectOf(p) }));
    const order = (a: { subject: string }, b: { subject: string }) => a.subject.localeCompare(b.subject);
    expect(got.sort(order)).toEqual(expected.sort(order));
    expect(r.identities).toEqual(['cinnabar', 'crs58', 'electrum', 'galena', 'raquel', 'stibnite']);
  });
});
