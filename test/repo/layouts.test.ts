/**
 * `keybridge validate` on example repos of the layouts people have (two-tier sops-nix with
 * `<user>-<host>` anchors, clan's age backend with clan.nix recipients and sidecars, agenix in a
 * subdirectory): the consistent variant reports nothing; each planted mistake is reported, and
 * the fix it prints, applied here as written (the real `age` and `keybridge bw sync`; editing
 * the file as the fix says; `sops updatekeys`, `agenix -r` and `clan vars fix` — not installed
 * here — done with age the way those tools do it, from their rules read independently of the
 * validator: the yaml library + re2js for .sops.yaml, nix-instantiate for secrets.nix), makes
 * the problem disappear.
 */
import { describe, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { RE2JS } from 're2js';
import { buildLayoutRepo, type Layout, type LayoutRepo } from '../../src/repo/exampleLayouts.ts';
import { sopsYaml } from '../../src/repo/exampleRepo.ts';
import { validateRepo, ValidationError, type ValidationResult } from '../../src/repo/validate.ts';
import { exportSource } from '../../src/bitwarden/source.ts';
import { keybridge } from '../helpers/run.ts';
import { findTool, itWith } from '../helpers/tools.ts';

const age = findTool('age');
const nix = findTool('nix-instantiate');
const base = mkdtempSync(join(tmpdir(), 'keybridge-layouts-'));
const env = { nixos: false, hasPlugin: () => true };

async function check(repo: LayoutRepo): Promise<ValidationResult> {
  return validateRepo({ root: repo.root, keysTxt: repo.keysTxt, bitwarden: repo.bitwardenExport ? await exportSource(repo.bitwardenExport) : null, environment: env });
}

const edit = (repo: LayoutRepo, rel: string, f: (s: string) => string) => writeFileSync(join(repo.root, rel), f(readFileSync(join(repo.root, rel), 'utf8')));
const sh = (repo: LayoutRepo, cmd: string) => execFileSync('bash', ['-c', cmd], { cwd: repo.root, stdio: ['ignore', 'pipe', 'pipe'] });

/** `sops updatekeys -y FILE…`: each file re-encrypted to its first matching rule (sops' own reading of .sops.yaml). */
async function sopsUpdatekeys(repo: LayoutRepo, fix: string): Promise<void> {
  const m = /sops updatekeys -y (.+)$/.exec(fix);
  expect(m, fix).not.toBeNull();
  const cfg = parseYaml(readFileSync(join(repo.root, '.sops.yaml'), 'utf8'), { merge: true }) as { creation_rules: { path_regex?: string; age?: string | string[]; key_groups?: { age: string[] }[] }[] };
  for (const file of m![1]!.split(' ')) {
    const rule = cfg.creation_rules.find((r) => !r.path_regex || RE2JS.compile(r.path_regex).test(file))!;
    const keys = (rule.key_groups ? rule.key_groups.flatMap((g) => g.age) : [rule.age ?? []].flat()).flatMap((k) => k.split(',')).map((k) => k.trim());
    writeFileSync(join(repo.root, file), await sopsYaml({ value: 'v' }, keys));
  }
}

/** `set &NAME in .sops.yaml (line N) to KEY`. */
function setAnchor(repo: LayoutRepo, fix: string): void {
  const m = /^set &(\S+) in \.sops\.yaml \(line (\d+)\) to (age1\w+)/.exec(fix);
  expect(m, fix).not.toBeNull();
  edit(repo, '.sops.yaml', (s) => s.split('\n').map((l, i) => (i + 1 === Number(m![2]) ? l.replace(new RegExp(`&${m![1]} \\S+`), `&${m![1]} ${m![3]}`) : l)).join('\n'));
}

/** `clan vars fix M`: key.age re-encrypted to clan.nix's recipients for M, shared vars to the machines' current pubs; sidecars rewritten. */
function clanVarsFix(repo: LayoutRepo, machine: string): void {
  const recips = JSON.parse(execFileSync('nix-instantiate', ['--eval', '--strict', '--json', '--expr', `(import ${join(repo.root, 'clan.nix')} { self = null; inputs = null; }).vars.settings.recipients`], { encoding: 'utf8' })) as { default: string[]; hosts: Record<string, string[]> };
  const want = [...(recips.hosts[machine] ?? recips.default)].sort();
  const reencrypt = (rel: string, to: string[], identities: string) => {
    writeFileSync(join(base, 'to.txt'), to.join('\n') + '\n');
    sh(repo, `age -d -i ${identities} ${rel} | age -R ${join(base, 'to.txt')} -o ${rel}.new && mv ${rel}.new ${rel}`);
    writeFileSync(join(repo.root, `${rel}.recipients`), to.join('\n') + '\n');
  };
  const keyAge = `secrets/age-keys/machines/${machine}/key.age`;
  if (readFileSync(join(repo.root, `${keyAge}.recipients`), 'utf8') !== want.join('\n') + '\n') reencrypt(keyAge, want, repo.adminIdentities);
  const pubs = ['cinnabar', 'electrum', 'galena'].map((m) => readFileSync(join(repo.root, `secrets/age-keys/machines/${m}/pub`), 'utf8').trim()).sort();
  const shared = 'secrets/clan-vars/shared/wifi/psk/psk.age';
  if (readFileSync(join(repo.root, `${shared}.recipients`), 'utf8') !== pubs.join('\n') + '\n') reencrypt(shared, pubs, repo.machineIdentities.cinnabar!);
}

/** `agenix -r` run in the directory of secrets.nix: every file decrypted and re-encrypted to its publicKeys. */
function agenixRekey(repo: LayoutRepo, fix: string): void {
  const m = /(?:^|then: )(?:cd (\S+) && )?agenix -r$/.exec(fix);
  expect(m, fix).not.toBeNull();
  const dir = join(repo.root, m![1] ?? '.');
  const rules = JSON.parse(execFileSync('nix-instantiate', ['--eval', '--strict', '--json', join(dir, 'secrets.nix')], { encoding: 'utf8' })) as Record<string, { publicKeys: string[]; armor?: boolean }>;
  for (const [file, r] of Object.entries(rules)) {
    const plain = execFileSync('age', ['-d', '-i', repo.sshIdentity!, file], { cwd: dir });
    writeFileSync(join(dir, file), execFileSync('age', [...(r.armor ? ['-a'] : []), ...r.publicKeys.flatMap((k) => ['-r', k])], { input: plain }));
  }
}

describe.each(['two-tier', 'clan-age', 'agenix'] as Layout[])('validate: the %s layout', (layout) => {
  itWith([age, nix])('the consistent variant reports nothing', async () => {
    const repo = await buildLayoutRepo(join(base, `${layout}-clean`), layout);
    const r = await check(repo);
    expect(r.problems).toEqual([]);
    expect(r.notes).toEqual([]);
    expect(r.invalid).toEqual([]);
  });
});

describe('validate: mistakes in the two-tier layout, and their fixes', () => {
  const build = (fault: string) => buildLayoutRepo(join(base, `two-tier-${fault}`), 'two-tier', fault);

  itWith([age])('a key rotated everywhere but the <user>-<host> anchor: the anchor is reported as crs58 on stibnite; setting it and updating the files it names clears it', async () => {
    const repo = await build('rotated-except-sops');
    const r = await check(repo);
    expect(r.problems.map((p) => [p.kind, p.identity])).toEqual([['mismatch', 'crs58']]);
    expect(r.problems[0]!.message).toMatch(/^crs58: \.sops\.yaml \(\.sops\.yaml:3, crs58's key on stibnite\) has age1/);
    const fix = r.problems[0]!.fix;
    expect(fix).toBe(`set &crs58-stibnite in .sops.yaml (line 3) to ${repo.keys.crs58}, then: sops updatekeys -y secrets/hosts/stibnite/wifi.yaml secrets/services/grafana.yaml secrets/shared.yaml secrets/users/crs58/signing-key.yaml`);
    setAnchor(repo, fix);
    await sopsUpdatekeys(repo, fix);
    expect((await check(repo)).problems).toEqual([]);
  });

  itWith([age])('a stale keys.txt is cleared by keybridge bw sync', async () => {
    const repo = await build('stale-keys-txt');
    const r = await check(repo);
    expect(r.problems.map((p) => [p.kind, p.identity, p.fix])).toEqual([['stale', 'crs58', 'keybridge bw sync']]);
    const sync = await keybridge(['bw', 'sync', '--export', repo.bitwardenExport!, '--file', repo.keysTxt], { env: { ...process.env, USER: 'crs58' } });
    expect(sync.code, sync.stderr).toBe(0);
    expect((await check(repo)).problems).toEqual([]);
  });

  itWith([age])('a file not re-encrypted after its rule gained a host, and a file whose recipients changed while its rule did not', async () => {
    for (const fault of ['not-reencrypted', 'changed-outside-rule']) {
      const repo = await build(fault);
      const r = await check(repo);
      expect(r.problems.map((p) => p.kind)).toEqual(['recipients']);
      if (fault === 'changed-outside-rule') expect(r.problems[0]!.message).toMatch(/a key nobody in the repository has: the file's recipients changed while its rule did not .*possible malicious actor/);
      else expect(r.problems[0]!.message).toMatch(/not encrypted to blackphos \(age1/);
      await sopsUpdatekeys(repo, r.problems[0]!.fix);
      expect((await check(repo)).problems, fault).toEqual([]);
    }
  });

  itWith([age])('an alias that names no anchor stops the check (exit 2) naming the alias and its line', async () => {
    const repo = await build('alias-without-anchor');
    await expect(check(repo)).rejects.toThrow(ValidationError);
    await expect(check(repo)).rejects.toThrow(/^\.sops\.yaml:13: alias \*raquel-blackphoss names no anchor/);
    const cli = await keybridge(['validate', repo.root, '--no-keys']);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/\.sops\.yaml:13: alias \*raquel-blackphoss names no anchor/);
    const json = await keybridge(['validate', repo.root, '--no-keys', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, exitStatus: 2, error: expect.stringMatching(/alias \*raquel-blackphoss/) });
    edit(repo, '.sops.yaml', (s) => s.replace('*raquel-blackphoss', '*raquel-blackphos'));
    expect((await check(repo)).problems).toEqual([]);
  });

  itWith([age])('a recipient with a bad checksum is invalid where it stands (never ✓), the files under it follow from it, and abbreviations show where keys differ', async () => {
    const repo = await build('bad-checksum');
    const r = await check(repo);
    expect(r.problems[0]).toMatchObject({ kind: 'invalid', file: '.sops.yaml:6' });
    expect(r.problems[0]!.message).toMatch(/blackphos's key .* is not a valid recipient: bad Bech32 checksum/);
    expect(r.problems.slice(1).every((p) => p.kind === 'recipients' && p.followsFrom === r.problems[0]!.message)).toBe(true);
    // the wrong and the right key differ in one character: both abbreviations show it
    const shown = /not encrypted to (\S+); still encrypted to blackphos \((\S+)\)/.exec(r.problems[1]!.message)!;
    expect(shown[1]).not.toBe(shown[2]);
    const { renderTable } = await import('../../src/repo/report.ts');
    expect(renderTable(r)).toMatch(/^blackphos .*✗ invalid key/m);
    edit(repo, '.sops.yaml', (s) => s.replace(/&blackphos \S+/, `&blackphos ${repo.keys.blackphos}`));
    expect((await check(repo)).problems).toEqual([]);
  });

  itWith([age])('a recipient of the wrong length (valid checksum) is invalid where it stands, never ✓; restoring it clears it', async () => {
    const repo = await build('truncated-key');
    const r = await check(repo);
    expect(r.problems[0]).toMatchObject({ kind: 'invalid', file: '.sops.yaml:6' });
    expect(r.problems[0]!.message).toMatch(/blackphos's key .* is not a valid recipient: an X25519 recipient holds 32 bytes, this one 31 \(truncated or padded\?\)$/);
    expect(r.invalid).toEqual([{ context: 'sops-anchor', where: '.sops.yaml:6', name: 'blackphos', reason: 'an X25519 recipient holds 32 bytes, this one 31 (truncated or padded?)' }]);
    expect(r.problems.slice(1).length).toBeGreaterThan(0);
    expect(r.problems.slice(1).every((p) => p.kind === 'recipients' && p.followsFrom === r.problems[0]!.message)).toBe(true);
    const { renderTable } = await import('../../src/repo/report.ts');
    expect(renderTable(r)).toMatch(/^blackphos .*✗ invalid key/m);
    expect(renderTable(r)).not.toMatch(/^blackphos .*✓ age1\S+ +✓/m);
    edit(repo, '.sops.yaml', (s) => s.replace(/&blackphos \S+/, `&blackphos ${repo.keys.blackphos}`));
    expect((await check(repo)).problems).toEqual([]);
  });

  itWith([age])('post-quantum and classic recipients in one rule', async () => {
    const repo = await build('pq-mixed');
    const r = await check(repo);
    expect(r.problems[0]!.kind).toBe('invalid');
    expect(r.problems[0]!.message).toMatch(/creation rule 3 mixes 1 post-quantum .* and 1 classic recipient/);
    expect(r.problems.slice(1).map((p) => p.followsFrom)).toEqual([r.problems[0]!.message]);
    edit(repo, '.sops.yaml', (s) => s.replace(`, ${repo.keys.pq}`, ''));
    expect((await check(repo)).problems).toEqual([]);
  });

  itWith([age])('one key under two names: said so, with the alias that joins them', async () => {
    const repo = await build('same-key-two-names');
    const r = await check(repo);
    expect(r.problems).toEqual([]);
    expect(r.notes).toHaveLength(1);
    const alias = /aliases: \{ (\w+): (\w+) \}$/.exec(r.notes[0]!)!;
    expect([alias[1], alias[2]]).toEqual(['cameron', 'crs58']);
    writeFileSync(join(repo.root, '.keybridge.yaml'), `aliases: { ${alias[1]}: ${alias[2]} }\n`);
    const after = await check(repo);
    expect(after.notes).toEqual([]);
    expect(after.identities).not.toContain('cameron');
  });
});

describe('validate without Nix: the subset parser', () => {
  itWith([age, nix])('reads clan.nix and secrets.nix of the example layouts as Nix does: the same problems, consistent or not', async () => {
    const { readClanNix, parseClanNix } = await import('../../src/repo/readers/clanNix.ts');
    const cases: [Layout, string | null][] = [['clan-age', null], ['clan-age', 'admin-added'], ['clan-age', 'admin-rotated'], ['agenix', null], ['agenix', 'not-rekeyed']];
    for (const [layout, fault] of cases) {
      const repo = await buildLayoutRepo(join(base, `no-nix-${layout}-${fault}`), layout, fault);
      if (layout === 'clan-age') {
        const text = readFileSync(join(repo.root, 'clan.nix'), 'utf8');
        const viaNix = readClanNix(repo.root, join(repo.root, 'clan.nix'), text)!;
        expect(viaNix.evaluatedWith).toBe('nix');
        const viaParser = parseClanNix(text)!;
        expect([viaParser.default, [...viaParser.hosts]]).toEqual([viaNix.default, [...viaNix.hosts]]);
      }
      const withNix = await check(repo);
      const path = process.env.PATH;
      process.env.PATH = '/nonexistent'; // nix-instantiate is not found: the readers fall back to the subset parser
      let without: ValidationResult;
      try {
        without = await check(repo);
      } finally {
        process.env.PATH = path;
      }
      expect(without.problems, `${layout} ${fault}`).toEqual(withNix.problems);
      expect(without.sightings).toEqual(withNix.sightings);
      expect(withNix.problems.length > 0, `${layout} ${fault}`).toBe(fault !== null);
    }
  });
});

describe('validate: mistakes in the clan age-backend layout, and their fixes', () => {
  const build = (fault: string) => buildLayoutRepo(join(base, `clan-age-${fault}`), 'clan-age', fault);

  itWith([age, nix])('an admin added to clan.nix and an admin key rotated in clan.nix, both without clan vars fix', async () => {
    for (const fault of ['admin-added', 'admin-rotated']) {
      const repo = await build(fault);
      const r = await check(repo);
      const machines = fault === 'admin-added' ? ['cinnabar', 'electrum'] : ['cinnabar', 'electrum', 'galena'];
      expect(r.problems.map((p) => [p.kind, p.fix])).toEqual(machines.map((m) => ['recipients', `clan vars fix ${m}`]));
      expect(r.problems[0]!.message).toMatch(/differ from clan\.nix .*clan vars fix was not run/);
      expect(r.contexts).toContain('clan-recipients'); // the admins are in the table
      const { renderTable } = await import('../../src/repo/report.ts');
      const table = renderTable(r);
      expect(table).toMatch(/^identity .* clan\.nix( |$)/m);
      expect(table).toMatch(/^admin +.*✓ age1\S+/m);
      for (const p of r.problems) clanVarsFix(repo, /clan vars fix (\w+)/.exec(p.fix)![1]!);
      expect((await check(repo)).problems, fault).toEqual([]);
    }
  });

  itWith([age, nix])("a machine's pub regenerated while a shared var still lists the old one", async () => {
    const repo = await build('machine-regenerated');
    const r = await check(repo);
    expect(r.problems.map((p) => [p.kind, p.file, p.fix])).toEqual([['recipients', 'secrets/clan-vars/shared/wifi/psk/psk.age.recipients', 'clan vars fix galena']]);
    expect(r.problems[0]!.message).toMatch(/no machine's current key \(galena's pub changed/);
    clanVarsFix(repo, 'galena');
    expect((await check(repo)).problems).toEqual([]);
  });

  itWith([age])('a file re-encrypted outside clan (header ≠ sidecar): the age command it prints clears it', async () => {
    const repo = await build('header-changed');
    const r = await check(repo);
    expect(r.problems.map((p) => p.kind)).toEqual(['recipients']);
    expect(r.problems[0]!.message).toMatch(/its recipients changed while the list did not.*possible malicious actor/);
    sh(repo, r.problems[0]!.fix);
    expect((await check(repo)).problems).toEqual([]);
  });

  itWith([age])('a plugin identity without its "# recipient:" comment; a needed plugin not on PATH (NixOS wording on NixOS)', async () => {
    const repo = await build('plugin-without-recipient');
    const r = await check(repo);
    expect(r.problems.map((p) => p.kind)).toEqual(['invalid']);
    expect(r.problems[0]!.message).toMatch(/line 6: the age-plugin-yubikey identity has no "# recipient: age1…" comment/);
    const { detectEnvironment } = await import('../../src/repo/environment.ts');
    const noPath = { ...detectEnvironment({ PATH: '/nonexistent' }), nixos: true };
    const missing = await validateRepo({ root: repo.root, keysTxt: repo.keysTxt, environment: noPath });
    const plugin = missing.problems.find((p) => p.kind === 'plugin')!;
    expect(plugin.message).toMatch(/age-plugin-yubikey is not on PATH, but .*keys\.txt:6 needs it/);
    expect(plugin.fix).toMatch(/pkgs\.age-plugin-yubikey to environment\.systemPackages/);
    const bin = mkdtempSync(join(tmpdir(), 'keybridge-path-'));
    writeFileSync(join(bin, 'age-plugin-yubikey'), '#!/bin/sh\n', { mode: 0o755 });
    const found = await validateRepo({ root: repo.root, keysTxt: repo.keysTxt, environment: detectEnvironment({ PATH: bin }) });
    expect(found.problems.some((p) => p.kind === 'plugin')).toBe(false);
    writeFileSync(repo.keysTxt, readFileSync(repo.keysTxt, 'utf8').replace('AGE-PLUGIN-YUBIKEY-1', '# recipient: age1yubikey1qw6csek4quyanvfq0kk8xst83vp9d4dlrrn99nm4wc4l2c8zle9q2rsxz5p\nAGE-PLUGIN-YUBIKEY-1'));
    expect((await check(repo)).problems).toEqual([]);
  });

  itWith([age])("a machine whose private key is in sops/secrets/<m>-age.key: the wrong anchor is fixed, never key.json with --force", async () => {
    const repo = await build('machine-key-anchor');
    const r = await check(repo);
    expect(r.problems.map((p) => [p.kind, p.identity])).toEqual([['mismatch', 'pyrite']]);
    expect(r.problems[0]!.file).toBe('.sops.yaml:3');
    expect(r.problems.map((p) => p.fix).join('\n')).not.toMatch(/--force/);
    expect(r.problems[0]!.fix).toBe(`set &pyrite in .sops.yaml (line 3) to ${repo.keys.pyrite}, then: sops updatekeys -y secrets/hosts/pyrite/db.yaml`);
    setAnchor(repo, r.problems[0]!.fix);
    await sopsUpdatekeys(repo, r.problems[0]!.fix);
    expect((await check(repo)).problems).toEqual([]);
  });
});

describe('validate: mistakes in the agenix layout (secrets/secrets.nix), and their fixes', () => {
  const build = (fault: string) => buildLayoutRepo(join(base, `agenix-${fault}`), 'agenix', fault);

  itWith([age, nix])("a host re-keyed: secrets.nix gets the host's ssh-ed25519 line, then cd secrets && agenix -r", async () => {
    const repo = await build('host-rekeyed');
    const r = await check(repo);
    expect(r.problems.map((p) => [p.kind, p.identity])).toEqual([['mismatch', 'galena']]);
    // shown the way secrets.nix stores it
    expect(r.problems[0]!.message).toMatch(/secrets\.nix \(secrets\/secrets\.nix\) has ssh-ed25519 …\S+, the other contexts have ssh-ed25519 …/);
    const fix = r.problems[0]!.fix;
    const line = `"${repo.keys.galena!.split(' ').slice(0, 2).join(' ')}"`;
    expect(fix).toBe(`in secrets/secrets.nix set galena = ${line}; then: cd secrets && agenix -r`);
    edit(repo, 'secrets/secrets.nix', (s) => s.replace(/galena = "[^"]*"/, `galena = ${line}`));
    agenixRekey(repo, fix);
    expect((await check(repo)).problems).toEqual([]);
  });

  itWith([age, nix])('a file not re-keyed, and a file re-encrypted to a key nobody has', async () => {
    for (const fault of ['not-rekeyed', 'changed-outside-rules']) {
      const repo = await build(fault);
      const r = await check(repo);
      expect(r.problems.map((p) => [p.kind, p.fix])).toEqual([['recipients', 'cd secrets && agenix -r']]);
      if (fault === 'not-rekeyed') expect(r.problems[0]!.message).toBe('secrets/smtp.age: not encrypted to raquel');
      else expect(r.problems[0]!.message).toMatch(/nobody in the repository has .*recipients changed while secrets\.nix did not/);
      agenixRekey(repo, r.problems[0]!.fix);
      expect((await check(repo)).problems, fault).toEqual([]);
    }
  });

  itWith([age])('a secrets.nix entry outside the repository is reported (exit 2) and not read', async () => {
    const repo = await build('path-outside');
    const r = await check(repo);
    expect(r.problems.map((p) => [p.kind, p.file, p.fix])).toEqual([['unchecked', 'secrets/secrets.nix ("../../outside.age")', 'move the file into the repository and name it relative to secrets/secrets.nix, or remove the entry']]);
    const cli = await keybridge(['validate', repo.root, '--no-keys']);
    expect(cli.code).toBe(2);
    edit(repo, 'secrets/secrets.nix', (s) => s.replace(/^ {2}"\.\.\/\.\.\/outside\.age".*\n/m, ''));
    expect((await check(repo)).problems).toEqual([]);
  });
});
