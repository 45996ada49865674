/**
 * validate on hostile repositories and input: links to `.` (no exponential walk), FIFOs and
 * /dev/zero links where files belong (no hang), links and secrets.nix paths out of the repo (not
 * followed, reported), loops, directories where files belong, unreadable files as an
 * unprivileged user, `.sops.yaml` of the wrong shape, malformed Bitwarden exports, sops metadata
 * with huge indices — each a message naming the path and the cause, exit 2, bounded excerpts.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateRepo, ValidationError } from '../../src/repo/validate.ts';
import { exportSource } from '../../src/bitwarden/source.ts';
import { DIST, keybridge, run } from '../helpers/run.ts';
import { findTool, itWith } from '../helpers/tools.ts';
import { repoWith } from '../helpers/repoFiles.ts';

const R1 = 'age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw';
const R2 = 'age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep';
const env = { nixos: false, hasPlugin: () => true };
const mkfifo = findTool('mkfifo');

const repo = (files: Record<string, string> = {}) => repoWith('keybridge-hostile-', files);

const check = (root: string) => validateRepo({ root, keysTxt: null, environment: env });
const sopsFile = (r: string) => `a: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops:\n    age:\n        - recipient: ${r}\n          enc: x\n    version: 3.9.4\n`;
const rules = `keys:\n  - &a ${R1}\ncreation_rules:\n  - path_regex: .*\n    age: *a\n`;

describe('validate: hostile file systems', () => {
  it('two links to "." (and a link to a parent) do not multiply the walk', async () => {
    const root = repo({ '.sops.yaml': rules, 'secrets/x.yaml': sopsFile(R1) });
    symlinkSync('.', join(root, 'a'));
    symlinkSync('.', join(root, 'b'));
    symlinkSync('..', join(root, 'secrets/up'));
    const t = Date.now();
    const r = await check(root);
    expect(Date.now() - t).toBeLessThan(10_000);
    expect(r.files.map((f) => f.file)).toEqual(['secrets/x.yaml']);
    expect(r.problems).toEqual([]);
  });

  itWith([mkfifo])('a FIFO as .sops.yaml, as a sops file and as an .age file: reported, never opened for reading', async () => {
    const root = repo({ 'secrets.nix': `{ "x.age".publicKeys = [ "${R1}" ]; }` });
    execFileSync('mkfifo', [join(root, '.sops.yaml')]);
    await expect(check(root)).rejects.toThrow(/^\.sops\.yaml: is a FIFO, not a regular file$/);
    execFileSync('rm', [join(root, '.sops.yaml')]);
    execFileSync('mkfifo', [join(root, 'x.age'), join(root, 'y.yaml')]);
    const r = await check(root);
    expect(r.problems.map((p) => [p.kind, p.message])).toEqual([
      ['unchecked', 'x.age: is a FIFO, not a regular file; not read'],
      ['unchecked', 'y.yaml: is a FIFO, not a regular file; not read'],
    ]);
    const cli = await keybridge(['validate', root, '--no-keys'], { timeoutMs: 60_000 });
    expect(cli.code).toBe(2);
  });

  it('/dev/zero and files outside the repository behind links: not followed, reported', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'keybridge-outside-'));
    writeFileSync(join(outside, 'key.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL0idNvgGiucWgup/mP78zyC23uFjYq0evcWdjGQUaBH\n');
    const root = repo();
    symlinkSync('/dev/zero', join(root, '.sops.yaml'));
    await expect(check(root)).rejects.toThrow(/^\.sops\.yaml: is a symbolic link out of the repository \(to \/dev\/zero\); not followed$/);
    execFileSync('rm', [join(root, '.sops.yaml')]);
    symlinkSync('/dev/zero', join(root, 'secret.age.recipients'));
    mkdirSync(join(root, 'hosts/evil'), { recursive: true });
    symlinkSync(join(outside, 'key.pub'), join(root, 'hosts/evil/ssh_host_ed25519_key.pub'));
    const r = await check(root);
    expect(r.sightings).toEqual([]); // the key from outside is not used
    expect(r.problems.map((p) => p.file).sort()).toEqual(['hosts/evil/ssh_host_ed25519_key.pub', 'secret.age.recipients']);
    expect(r.problems.every((p) => p.kind === 'unchecked' && /symbolic link out of the repository/.test(p.message) && /^replace the link by the file itself/.test(p.fix))).toBe(true);
  });

  it('a link loop and a dangling link where a sops file would be', async () => {
    const root = repo({ '.sops.yaml': rules });
    symlinkSync('b.yaml', join(root, 'a.yaml'));
    symlinkSync('a.yaml', join(root, 'b.yaml'));
    symlinkSync('nothing.yaml', join(root, 'c.yaml'));
    const r = await check(root);
    expect(r.problems.map((p) => p.message)).toEqual(['a.yaml: symbolic link loop', 'b.yaml: symbolic link loop', 'c.yaml: is a symbolic link to nothing (dangling)']);
  });

  it('a directory where a file belongs, and sops/users being a file: exit 2 naming the path', async () => {
    const root = repo();
    mkdirSync(join(root, '.sops.yaml'));
    await expect(check(root)).rejects.toThrow(/^\.sops\.yaml: is a directory, not a regular file$/);
    const r2 = repo({ 'sops/users': 'not a directory\n' });
    await expect(check(r2)).rejects.toThrow(/^sops\/users: is a regular file, not a directory$/);
    const cli = await keybridge(['validate', r2, '--no-keys']);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/^keybridge validate: sops\/users: is a regular file, not a directory/);
    const r3 = repo();
    mkdirSync(join(r3, 'sops/users/crs58/key.json'), { recursive: true });
    expect((await check(r3)).problems.map((p) => [p.kind, p.message])).toEqual([['unchecked', 'sops/users/crs58/key.json: is a directory, not a regular file']]);
  });

  it('as root, a file with mode 000 is read (root may read it)', async () => {
    if (process.getuid?.() !== 0) return; // the unprivileged case is the next test
    const root = repo({ '.sops.yaml': rules, 'secrets/x.yaml': sopsFile(R1) });
    chmodSync(join(root, 'secrets/x.yaml'), 0);
    expect((await check(root)).problems).toEqual([]);
  });

  itWith([findTool('setpriv')])('as an unprivileged user, unreadable files and directories are reported by path (exit 2), nothing skipped silently', async () => {
    if (process.getuid?.() !== 0) return; // setpriv needs root to change user
    const root = repo({ '.sops.yaml': rules, 'secrets/x.yaml': sopsFile(R1), 'secrets/locked/y.yaml': sopsFile(R1), 'secrets/z.yaml': sopsFile(R1) });
    execFileSync('chmod', ['-R', 'a+rX', root]);
    chmodSync(join(root, 'secrets/locked'), 0o700);
    chmodSync(join(root, 'secrets/z.yaml'), 0o600);
    const r = await run('setpriv', ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups', process.execPath, `${DIST}/keybridge.mjs`, 'validate', root, '--no-keys', '--json'], { env: { PATH: process.env.PATH, HOME: '/nonexistent' } });
    expect(r.code, r.stderr).toBe(2);
    const out = JSON.parse(r.stdout) as { problems: { kind: string; message: string }[] };
    expect(out.problems.map((p) => [p.kind, p.message])).toEqual([
      ['unchecked', 'secrets/locked: permission denied; its contents were not checked'],
      ['unchecked', 'secrets/z.yaml: permission denied'],
    ]);
    const unreadableConfig = repo({ '.sops.yaml': rules });
    execFileSync('chmod', ['-R', 'a+rX', unreadableConfig]);
    chmodSync(join(unreadableConfig, '.sops.yaml'), 0o600);
    const c = await run('setpriv', ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups', process.execPath, `${DIST}/keybridge.mjs`, 'validate', unreadableConfig, '--no-keys'], { env: { PATH: process.env.PATH, HOME: '/nonexistent' } });
    expect(c.code).toBe(2);
    expect(c.stderr).toBe('keybridge validate: .sops.yaml: permission denied\n');
  });
});

describe('validate: bad input gets a message naming the path and the cause, exit 2', () => {
  it('.sops.yaml that parses but has the wrong shape, or is binary', async () => {
    const cases: [string, RegExp][] = [
      ['keys: 5\n', /^\.sops\.yaml:1: keys must be a list of keys, not a number$/],
      ['creation_rules: {a: 1}\n', /^\.sops\.yaml:1: creation_rules must be a list of rules, not a map$/],
      ['creation_rules:\n  - 5\n', /^\.sops\.yaml:2: creation rule 1 must be a map/],
      ['creation_rules:\n  - path_regex: [a]\n', /^\.sops\.yaml:2: creation rule 1: path_regex must be a string, not a list$/],
      ['creation_rules:\n  - key_groups: {age: x}\n', /key_groups must be a list of groups, not a map$/],
      ['creation_rules:\n  - age: [1, 2]\n', /^\.sops\.yaml:2: creation rule 1: age must hold strings \(age recipients\), found a number$/],
      ['- 1\n- 2\n', /^\.sops\.yaml:1: the top level must be a map with creation_rules, not a list$/],
      ['\u0000\u0001\u00ff binary', /^\.sops\.yaml: is binary, not YAML text$/],
      // An alias as the whole rules list (or keys list) is named, with what its anchor holds.
      [`keys:\n  - &a ${R1}\ncreation_rules: *a\n`, /^\.sops\.yaml:3: creation_rules must be a list of rules, not the alias \*a \(line 3\), which names a string \(&a at line 2\)$/],
      [`keys: &k\n  - ${R1}\ncreation_rules: *k\n`, /^\.sops\.yaml:2: creation rule 1 \(of \*k, the alias creation_rules is at line 3\) must be a map \(path_regex, age or key_groups\), not a string$/],
      [`x: &m {a: 1}\nkeys: *m\n`, /^\.sops\.yaml:2: keys must be a list of keys, not the alias \*m \(line 2\), which names a map \(&m at line 1\)$/],
      [`creation_rules: *rules\n`, /^\.sops\.yaml:1: alias \*rules names no anchor \(sops refuses this file: define &rules before it is used\)$/],
      [`r: &g {age: ${R1}}\ncreation_rules:\n  - key_groups: *g\n`, /^\.sops\.yaml:3: creation rule 1: key_groups must be a list of groups, not the alias \*g \(line 3\), which names a map \(&g at line 1\)$/],
    ];
    for (const [text, want] of cases) {
      const root = repo({ '.sops.yaml': text });
      await expect(check(root), JSON.stringify(text)).rejects.toThrow(want);
    }
    const cli = await keybridge(['validate', repo({ '.sops.yaml': 'keys: 5\n' }), '--no-keys', '--json']);
    expect(cli.code).toBe(2);
    expect(JSON.parse(cli.stdout)).toEqual({ ok: false, exitStatus: 2, error: '.sops.yaml:1: keys must be a list of keys, not a number' });
  });

  it('an alias naming a list of rules stands for that list, as for sops: consistent, a planted mistake, its fix', async () => {
    const cfg = `shared: &rules\n  - path_regex: secrets/.*\n    age: ${R1}\ncreation_rules: *rules\n`;
    const root = repo({ '.sops.yaml': cfg, 'secrets/x.yaml': sopsFile(R1) });
    expect((await check(root)).problems).toEqual([]);
    writeFileSync(join(root, 'secrets/x.yaml'), sopsFile(R2));
    const r = await check(root);
    expect(r.problems.map((p) => [p.kind, p.file, p.fix])).toEqual([['recipients', 'secrets/x.yaml', 'sops updatekeys -y secrets/x.yaml']]);
    expect(r.problems[0]!.message).toMatch(/not encrypted to .*age1yt3tfqlf/);
    writeFileSync(join(root, 'secrets/x.yaml'), sopsFile(R1)); // what sops updatekeys writes: the rule's recipients
    expect((await check(root)).problems).toEqual([]);
  });

  it('malformed Bitwarden exports: null, items without names, keys that are not strings', async () => {
    const cases: [unknown, RegExp][] = [
      [null, /got null/],
      [{ items: [{ type: 5 }] }, /item 1 has no name/],
      [{ items: [{ name: 'sops-a-ssh', sshKey: { publicKey: 5 } }] }, /item 1 \("sops-a-ssh"\): sshKey\.publicKey is number, not a string/],
      [{ items: [{ name: 'sops-a-ssh', login: 'x' }] }, /login is not an object/],
      [[7], /item 1 is not an object/],
    ];
    for (const [data, want] of cases) {
      const file = join(repo(), 'export.json');
      writeFileSync(file, JSON.stringify(data));
      await expect(exportSource(file)).rejects.toThrow(want);
      const cli = await keybridge(['validate', repo(), '--no-keys', '--bw-export', file]);
      expect(cli.code, JSON.stringify(data)).toBe(2);
      expect(cli.stderr).toMatch(new RegExp(`^keybridge validate: ${file.replace(/[.]/g, '\\.')}`));
    }
  });

  it('sops metadata with a huge list index is bounded (dotenv, INI), and reported', async () => {
    const root = repo({ '.sops.yaml': rules, 'a.env': `X=ENC[x]\nsops_key_groups__list_999999999__map_age__list_0__map_recipient=${R1}\nsops_version=3.9.0\n`, 'b.env': `sops_age__list_9999999999999999__map_recipient=${R1}\n`, 'c.ini': `[sops]\nage__list_50000__map_recipient=${R1}\n` });
    const t = Date.now();
    const r = await check(root);
    expect(Date.now() - t).toBeLessThan(10_000);
    expect(r.problems.map((p) => [p.kind, p.file])).toEqual([['unchecked', 'a.env'], ['unchecked', 'b.env'], ['unchecked', 'c.ini']]);
    expect(r.problems[0]!.message).toMatch(/key group index 999999999 is out of range/);
  });

  it('errors quote only a short, sanitised excerpt of the input', async () => {
    const huge = 'age1' + 'q'.repeat(1_000_000);
    const root = repo({ 'sops/users/x/key.json': JSON.stringify([{ publickey: huge, type: 'age' }]), '.sops.yaml': `creation_rules:\n  - path_regex: "${'('.repeat(10000)}\\u0007"\n` });
    await expect(check(root)).rejects.toThrow(ValidationError);
    const e = (await check(root).catch((x: Error) => x)) as Error;
    expect(e.message.length).toBeLessThan(400);
    expect(e.message).not.toMatch(/\u0007/);
    const r = await check(repo({ 'sops/users/x/key.json': JSON.stringify([{ publickey: huge, type: 'age' }]) }));
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.message.length).toBeLessThan(300);
  });
});

describe('validate: the environment', () => {
  it('NixOS is detected from /etc/NIXOS or ID=nixos in os-release (injectable paths)', async () => {
    const { detectNixos } = await import('../../src/repo/environment.ts');
    const dir = repo({ 'os-release-nixos': 'NAME=NixOS\nID=nixos\nVERSION_ID="25.05"\n', 'os-release-debian': 'ID=debian\nID_LIKE=""\n', NIXOS: '' });
    expect(detectNixos({ nixosMarker: join(dir, 'none'), osRelease: join(dir, 'os-release-nixos') })).toBe(true);
    expect(detectNixos({ nixosMarker: join(dir, 'none'), osRelease: join(dir, 'os-release-debian') })).toBe(false);
    expect(detectNixos({ nixosMarker: join(dir, 'NIXOS'), osRelease: join(dir, 'none') })).toBe(true);
  });

  it('a secrets.nix entry without its file and a sidecar without its .age file are said in notes, not skipped silently', async () => {
    const root = repo({ 'secrets.nix': `{ "missing.age".publicKeys = [ "${R1}" ]; }`, 'lonely.age.recipients': `${R1}\n` });
    const r = await check(root);
    expect(r.problems).toEqual([]);
    expect(r.notes).toEqual(['secrets.nix names missing.age, which does not exist yet (agenix -e missing.age creates it)', 'lonely.age.recipients has no lonely.age beside it; only the list was checked']);
  });
});
