import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool, itWith } from '../helpers/tools.ts';
import { matchRule, parseSopsConfig } from '../../src/repo/readers/sopsConfig.ts';
import { parseSopsFile } from '../../src/repo/readers/sopsFile.ts';
import { parseSecretsNix, readSecretsNix } from '../../src/repo/readers/agenix.ts';
import { readKeysTxt } from '../../src/repo/readers/keysTxt.ts';
import { generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { readKeyJson } from '../../src/repo/readers/clan.ts';
import { readAgeHeader, recipientHeaderId } from '../../src/repo/readers/ageHeader.ts';

const FIX = '/work/shared/fixtures/sops-age';
const R1 = 'age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw';
const R2 = 'age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep';

describe('context readers', () => {
  it('.sops.yaml: anchors, aliases in key groups, comma-separated rule-level age, first matching rule', () => {
    const cfg = parseSopsConfig(readFileSync(`${FIX}/dotsops.yaml`, 'utf8'));
    expect(cfg.rules[0]!.groups).toEqual([[R2, R1]]);
    const c2 = parseSopsConfig(`keys:\n  - &a ${R1} # user a\n  - &b ${R2}\ncreation_rules:\n  - path_regex: hosts/x/.*\n    key_groups:\n      - age: [*a, "${R2}, ${R1}"]\n      - age: [*b]\n  - age: "${R1}"\n`);
    expect(c2.anchors.map((a) => [a.anchor, a.value, a.line])).toEqual([['a', R1, 2], ['b', R2, 3]]);
    expect(matchRule(c2, 'secrets/hosts/x/y.yaml')!.groups).toEqual([[R1, R2, R1], [R2]]);
    expect(matchRule(c2, 'other.yaml')!.index).toBe(1);
  });

  it('sops metadata from the real yaml, json and ini files, and dotenv', () => {
    for (const f of ['example.yaml', 'example.json', 'example.ini']) {
      expect(parseSopsFile(readFileSync(`${FIX}/${f}`, 'utf8'), f)!.groups.flat().sort()).toEqual([R2, R1]);
    }
    const env = `A=ENC[x]\nsops_age__list_0__map_recipient=${R1}\nsops_age__list_0__map_enc=-----BEGIN AGE ENCRYPTED FILE-----\\nxx\nsops_version=3.9.0\n`;
    expect(parseSopsFile(env, 'x.env')).toEqual({ groups: [[R1]] });
    expect(parseSopsFile('a: 1\n', 'x.yaml')).toBeNull();
    const groups = parseSopsFile(JSON.stringify({ sops: { key_groups: [{ age: [{ recipient: R1 }] }, { age: [{ enc: 'x', recipient: R2 }] }] } }), 'g.json');
    expect(groups).toEqual({ groups: [[R1], [R2]] });
  });

  it('secrets.nix: the common subset (let, lists, ++, nested attribute paths)', () => {
    const r = parseSecretsNix(`
      # comment
      let
        user1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL0idNvgGiucWgup/mP78zyC23uFjYq0evcWdjGQUaBH";
        system1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPJDyIr/FSz1cJdcoW69R+NrWzwGK/+3gJpqD1t8L2zE";
        users = [ user1 ];
        systems = [ system1 ];
      in
      {
        "secret1.age".publicKeys = [ user1 system1 ];
        "secret2.age".publicKeys = users ++ systems;
        "armored-secret.age" = { publicKeys = [ user1 ]; armor = true; };
      }`);
    expect([...r.files.keys()]).toEqual(['secret1.age', 'secret2.age', 'armored-secret.age']);
    expect(r.files.get('secret2.age')).toHaveLength(2);
    expect([...r.names.keys()]).toEqual(['user1', 'system1']);
    // agenix's example tags (secrets-repo-formats.md §9)
    expect(recipientHeaderId(r.names.get('user1')!)).toBe('ssh-ed25519:V3XmEA');
    expect(recipientHeaderId(r.names.get('system1')!)).toBe('ssh-ed25519:KLPP8w');
    expect(() => parseSecretsNix('let x = "${y}"; in {}')).toThrow(/interpolation/);
    expect(() => parseSecretsNix('{ "a.age".publicKeys = [ nobody ]; }')).toThrow(/unknown name "nobody"/);
  });

  it('keys.txt: derived public keys, comment mismatches, plugin identities by their recipient comment', async () => {
    const text = readFileSync(`${FIX}/keys.txt`, 'utf8');
    const e = await readKeysTxt(text);
    expect(e.map((x) => x.recipient)).toEqual([R1, R2]);
    const swapped = await readKeysTxt(text.replace(R1, R2));
    expect(swapped[0]!.commentMismatch).toBe(R2);
    const plugin = await readKeysTxt('#    Recipient: age1yubikey1qw6csek4quyanvfq0kk8xst83vp9d4dlrrn99nm4wc4l2c8zle9q2rsxz5p\nAGE-PLUGIN-YUBIKEY-1FESMCQYZQWK0A6QMMP3FW\n');
    expect(plugin).toEqual([{ line: 2, kind: 'plugin', recipient: 'age1yubikey1qw6csek4quyanvfq0kk8xst83vp9d4dlrrn99nm4wc4l2c8zle9q2rsxz5p' }]);
  });

  it('keys.txt: post-quantum AGE-SECRET-KEY-PQ-1 identities get their age1pq1 public key (checked against typage)', async () => {
    const id = await generateHybridIdentity();
    const r = await identityToRecipient(id);
    const e = await readKeysTxt(`# public key: ${r}\n${id}\n# public key: ${R1}\n${id}\nAGE-SECRET-KEY-PQ-1QQQQ\n`);
    expect(e).toEqual([
      { line: 2, kind: 'secret', recipient: r },
      { line: 4, kind: 'secret', recipient: r, commentMismatch: R1 },
      { line: 5, kind: 'secret', recipient: null },
    ]);
  });

  it('clan key.json: list and single-object forms; entries without type are rejected like clan-core does', () => {
    expect(readKeyJson(`[{"publickey": "${R1}", "type": "age"}, {"publickey": "ABCD", "type": "pgp"}]`)).toEqual([R1]);
    expect(readKeyJson(`{"publickey": "${R2}", "type": "AGE"}`)).toEqual([R2]);
    expect(() => readKeyJson(`{"publickey": "${R2}"}`)).toThrow(/no valid "type"/);
    expect(() => readKeyJson(`[{"type": "age"}]`)).toThrow(/no public key/);
  });

  it('age headers: tagged and anonymous stanzas, binary and armored', () => {
    const h = readAgeHeader(Buffer.from('age-encryption.org/v1\n-> ssh-ed25519 V3XmEA abc\nbody\n-> X25519 def\nbody\n-> piv-p256 A6z+6A xyz\nbody\n--- mac\n\x00\x01'));
    expect(h).toEqual({ tagged: ['ssh-ed25519:V3XmEA', 'piv-p256:A6z+6A'], anonymous: 1, other: [] });
    expect(recipientHeaderId('age1yubikey1qw6csek4quyanvfq0kk8xst83vp9d4dlrrn99nm4wc4l2c8zle9q2rsxz5p')).toBe('piv-p256:A6z+6A');
    expect(readAgeHeader(Buffer.from('not age'))).toBeNull();
  });
});

describe('rule matching shortcut', () => {
  it('the literal a rule requires is in every path its regex matches (property)', async () => {
    const fc = (await import('fast-check')).default;
    const { requiredLiteral } = await import('../../src/repo/readers/sopsConfig.ts');
    const atom = fc.constantFrom('a', 'b', '/', '-', '\\.', '.', '.*', 'a?', 'b*', 'a+', '\\d', 'x', '$', '^');
    fc.assert(
      fc.property(fc.array(atom, { minLength: 1, maxLength: 8 }), fc.stringMatching(/^[ab/.\-x0-9]{0,12}$/), (parts, path) => {
        const src = parts.join('');
        let re: RegExp;
        try {
          re = new RegExp(src);
        } catch {
          return true;
        }
        return !re.test(path) || path.includes(requiredLiteral(src));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('secrets.nix through Nix', () => {
  itWith([findTool('nix-instantiate')])('nix-instantiate evaluates what the subset parser cannot, and agrees where both can', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keybridge-nix-'));
    const simple = 'let a = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL0idNvgGiucWgup/mP78zyC23uFjYq0evcWdjGQUaBH"; users = [ a ]; in { "x.age".publicKeys = users ++ [ a ]; }';
    writeFileSync(join(dir, 'simple.nix'), simple);
    const viaNix = readSecretsNix(join(dir, 'simple.nix'), simple);
    expect(viaNix.evaluatedWith).toBe('nix');
    expect([...viaNix.files]).toEqual([...parseSecretsNix(simple).files]);
    const fancy = 'let keys = { a = "age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw"; }; in builtins.listToAttrs (map (n: { name = "${n}.age"; value.publicKeys = builtins.attrValues keys; }) [ "one" "two" ])';
    writeFileSync(join(dir, 'fancy.nix'), fancy);
    const r = readSecretsNix(join(dir, 'fancy.nix'), fancy);
    expect(r.evaluatedWith).toBe('nix');
    expect([...r.files.keys()]).toEqual(['one.age', 'two.age']);
    expect(() => parseSecretsNix(fancy)).toThrow();
  });
});
