/**
 * Names from input that are also names of Object.prototype (`__proto__`, `constructor`,
 * `toString`) are ordinary names in every reader of a secrets repo: an agenix file or let
 * binding, a clan.nix machine, a key.json field, sops metadata, a Bitwarden item, a
 * `.keybridge.yaml` alias. None is dropped, none becomes an object's prototype, none is read
 * through a prototype.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NixParser } from '../../src/repo/readers/nix.ts';
import { parseSecretsNix, readSecretsNix } from '../../src/repo/readers/agenix.ts';
import { parseClanNix } from '../../src/repo/readers/clanNix.ts';
import { readKeyJson } from '../../src/repo/readers/clan.ts';
import { parseSopsFile } from '../../src/repo/readers/sopsFile.ts';
import { loadConfig, validateRepo } from '../../src/repo/validate.ts';
import { RepoFs } from '../../src/repo/repoFs.ts';
import { exportSource } from '../../src/bitwarden/source.ts';
import { findTool, itWith } from '../helpers/tools.ts';
import { repoWith } from '../helpers/repoFiles.ts';
import { prototypeFree } from '../../fuzz/arbitraries.ts';

const R1 = 'age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw';
const R2 = 'age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep';
const K1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL0idNvgGiucWgup/mP78zyC23uFjYq0evcWdjGQUaBH';
const env = { nixos: false, hasPlugin: () => true };
const age = findTool('age');
const nix = findTool('nix-instantiate');

const repo = (files: Record<string, string> = {}) => repoWith('keybridge-proto-', files);


const SECRETS_NIX = `let\n  __proto__ = "${K1}";\n  constructor = "${R1}";\nin\n{\n  "__proto__".publicKeys = [ __proto__ constructor ];\n  "toString".publicKeys = [ constructor ];\n  x.__proto__.publicKeys = [ constructor ];\n}\n`;

describe('names that are also names of Object.prototype', () => {
  it('the Nix subset parser keeps `__proto__` attributes and bindings as ordinary names', () => {
    const top = new NixParser(SECRETS_NIX, 'secrets.nix').parseTop(new Map()) as Record<string, unknown>;
    expect(Object.keys(top)).toEqual(['__proto__', 'toString', 'x']);
    expect(prototypeFree(top)).toBe(true);
    expect(Object.keys(top.x as object)).toEqual(['__proto__']);
    const r = parseSecretsNix(SECRETS_NIX);
    expect([...r.files]).toEqual([['__proto__', [K1, R1]], ['toString', [R1]]]);
    expect([...r.names]).toEqual([['__proto__', K1], ['constructor', R1]]);
    // An attribute set merged into one named __proto__ stays an attribute of it.
    const merged = new NixParser('{ a.__proto__ = { b = "1"; }; a.__proto__.c = "2"; }', 'x.nix').parseTop(new Map()) as { a: Record<string, Record<string, string>> };
    expect(Object.keys(merged.a)).toEqual(['__proto__']);
    expect({ ...merged.a.__proto__ }).toEqual({ b: '1', c: '2' });
  });

  itWith([nix])('Nix and the subset parser read the same `__proto__` entries', () => {
    const root = repo({ 'secrets.nix': SECRETS_NIX });
    const viaNix = readSecretsNix(join(root, 'secrets.nix'), SECRETS_NIX, root);
    expect(viaNix.evaluatedWith).toBe('nix');
    expect([...viaNix.files].sort()).toEqual([...parseSecretsNix(SECRETS_NIX).files].sort());
  });

  itWith([age])('an agenix file named __proto__ is checked like any other: consistent, then a planted mistake reported, then fixed', async () => {
    const nixText = (keys: string) => `let\n  __proto__ = "${R1}";\n  constructor = "${R2}";\nin\n{\n  "__proto__".publicKeys = [ ${keys} ];\n}\n`;
    const root = repo({ 'secrets.nix': nixText('__proto__') });
    const encrypt = (...rs: string[]) => execFileSync(age.path!, [...rs.flatMap((r) => ['-r', r]), '-o', join(root, '__proto__')], { input: 'secret\n' });
    encrypt(R1);
    const check = () => validateRepo({ root, keysTxt: null, environment: env });
    let r = await check();
    expect(r.problems).toEqual([]);
    expect(r.files.map((f) => [f.file, f.kind, f.anonymous])).toEqual([['__proto__', 'agenix', { expected: 1, actual: 1 }]]);
    expect(r.identities).toEqual(['__proto__', 'constructor']);
    expect(r.sightings.filter((s) => s.context === 'agenix').map((s) => s.name)).toEqual(['__proto__', 'constructor']);
    // The planted mistake: constructor added to the file's publicKeys, the file not re-encrypted.
    writeFileSync(join(root, 'secrets.nix'), nixText('__proto__ constructor'));
    r = await check();
    expect(r.problems.map((p) => [p.kind, p.file, p.fix])).toEqual([['recipients', '__proto__', 'agenix -r']]);
    expect(r.problems[0]!.message).toMatch(/^__proto__: 1 X25519\/ML-KEM stanza\(s\) but secrets\.nix lists 2 age1 key\(s\)$/);
    // What agenix -r does: re-encrypt to the file's publicKeys.
    encrypt(R1, R2);
    expect((await check()).problems).toEqual([]);
  });

  it('clan.nix: a machine named __proto__ gets its recipients', () => {
    const r = parseClanNix(`{\n  vars.settings.recipients.default = [ "${R1}" ];\n  vars.settings.recipients.hosts.__proto__ = [ "${R2}" ];\n  vars.settings.recipients.hosts.constructor = [ "${R1}" ];\n}\n`)!;
    expect(r.default).toEqual([R1]);
    expect([...r.hosts]).toEqual([['__proto__', [R2]], ['constructor', [R1]]]);
  });

  it('JSON and YAML input: a `__proto__` key is an own key, never read as the object the reader wanted', async () => {
    // key.json: an entry whose fields sit under "__proto__" has no type (clan-core rejects it).
    expect(() => readKeyJson('{"__proto__": {"publickey": "' + R1 + '", "type": "age"}}')).toThrow(/entry 1 has no valid "type"/);
    // sops metadata: the age list must be sops.age, not something under sops.__proto__.
    expect(parseSopsFile('{"data": "ENC[x]", "sops": {"__proto__": {"age": [{"recipient": "' + R1 + '"}]}}}', 'x.json')).toEqual({ groups: [[]] });
    expect(parseSopsFile('{"data": "ENC[x]", "sops": {"age": [{"recipient": "' + R1 + '"}], "__proto__": {"key_groups": 5}}}', 'x.json')).toEqual({ groups: [[R1]] });
    // A Bitwarden item named __proto__ is found by its name; an export's items are not read through a prototype.
    const dir = repo();
    writeFileSync(join(dir, 'export.json'), JSON.stringify({ items: [{ name: '__proto__', type: 5, sshKey: { publicKey: K1 } }, { name: 'constructor' }] }));
    const src = await exportSource(join(dir, 'export.json'));
    expect((await src.getItem('__proto__')).sshKey?.publicKey).toBe(K1);
    expect((await src.listItems('proto')).map((i) => i.name)).toEqual(['__proto__']);
    writeFileSync(join(dir, 'export2.json'), '{"__proto__": {"items": []}}');
    await expect(exportSource(join(dir, 'export2.json'))).rejects.toThrow(/holds no "items" list/);
    // .keybridge.yaml: aliases and item names called __proto__ / toString are kept.
    const cfgRoot = repo({ '.keybridge.yaml': 'aliases:\n  __proto__: crs58\n  toString: raquel\nbitwarden:\n  items:\n    __proto__: sops-x-ssh\n' });
    const cfg = loadConfig(new RepoFs(cfgRoot));
    expect(Object.entries(cfg.aliases)).toEqual([['__proto__', 'crs58'], ['toString', 'raquel']]);
    expect(Object.entries(cfg.bitwardenItems)).toEqual([['__proto__', 'sops-x-ssh']]);
  });
});
