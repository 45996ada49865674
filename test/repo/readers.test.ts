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
import { ageHeaderRead, readAgeHeader, recipientHeaderId } from '../../src/repo/readers/ageHeader.ts';

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
    expect(plugin).toEqual([{ line: 2, kind: 'plugin', plugin: 'yubikey', recipient: 'age1yubikey1qw6csek4quyanvfq0kk8xst83vp9d4dlrrn99nm4wc4l2c8zle9q2rsxz5p' }]);
    // a plugin identity without its recipient comment, a post-quantum key (public key derived with
    // ML-KEM-768), and lines sops cannot read
    const { generateHybridIdentity, identityToRecipient } = await import('age-encryption');
    const pq = await generateHybridIdentity();
    const more = await readKeysTxt(`AGE-PLUGIN-YUBIKEY-1FESMCQYZQWK0A6QMMP3FW\n${pq}\nAGE-SECRET-KEY-1QQQQ\nhello\n`);
    expect(more.map((e) => [e.line, e.kind, e.recipient])).toEqual([[1, 'plugin', null], [2, 'pq-secret', await identityToRecipient(pq)], [3, 'invalid', null], [4, 'invalid', null]]);
    expect(more[1]!.recipient).toMatch(/^age1pq1/);
  });

  it('keys.txt: post-quantum AGE-SECRET-KEY-PQ-1 identities get their age1pq1 public key (checked against typage)', async () => {
    const id = await generateHybridIdentity();
    const r = await identityToRecipient(id);
    const e = await readKeysTxt(`# public key: ${r}\n${id}\n# public key: ${R1}\n${id}\nAGE-SECRET-KEY-PQ-1QQQQ\n`);
    expect(e).toEqual([
      { line: 2, kind: 'pq-secret', recipient: r },
      { line: 4, kind: 'pq-secret', recipient: r, commentMismatch: R1 },
      { line: 5, kind: 'invalid', recipient: null, reason: 'not a valid post-quantum age secret key (bad checksum or length)' },
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

  it('age headers are read from the first bytes only, with what reading the whole file says', async () => {
    const { RepoFs } = await import('../../src/repo/repoFs.ts');
    const dir = mkdtempSync(join(tmpdir(), 'kb-agehead-'));
    const stanzas = Array.from({ length: 400 }, (_, i) => `-> ssh-ed25519 T${String(i).padStart(5, '0')} ${'A'.repeat(43)}\n${'B'.repeat(64)}\n`).join('');
    const files: Record<string, Buffer> = {
      'big.age': Buffer.concat([Buffer.from(`age-encryption.org/v1\n${stanzas}--- mac\n`), Buffer.alloc(3 << 20, 7)]), // header over 16 KiB, 3 MiB body
      'small.age': Buffer.from('age-encryption.org/v1\n-> X25519 abc\nbody\n--- mac\n\x00'),
      'noend.age': Buffer.from(`age-encryption.org/v1\n${stanzas}`), // cut off before its MAC line
      'other.age': Buffer.concat([Buffer.from('not an age file\n'), Buffer.alloc(1 << 20)]),
      'armored.age': Buffer.from(`-----BEGIN AGE ENCRYPTED FILE-----\n${Buffer.from('age-encryption.org/v1\n-> X25519 abc\nbody\n--- mac\n').toString('base64')}\n-----END AGE ENCRYPTED FILE-----\n`),
    };
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
    const fs = new RepoFs(dir);
    for (const [name, bytes] of Object.entries(files)) {
      const head = fs.readBytes(name, undefined, ageHeaderRead)!;
      expect(readAgeHeader(head), name).toEqual(readAgeHeader(bytes));
      if (name === 'big.age' || name === 'other.age') expect(head.length, name).toBeLessThan(bytes.length / 10);
      else expect(head.length, name).toBe(bytes.length);
    }
    expect(readAgeHeader(files['big.age']!)!.tagged).toHaveLength(400);
  });
});

describe('rule index', () => {
  it('every path a rule matches (RE2) contains one of its trigger literals (property)', async () => {
    const fc = (await import('fast-check')).default;
    const { RE2JS } = await import('re2js');
    const { triggerLiterals } = await import('../../src/repo/ruleIndex.ts');
    const atom = fc.constantFrom('a', 'b', '/', '-', '\\.', '.', '.*', 'a?', 'b*', 'a+', '\\d', 'x', '$', '^', '(a|b)', '(?:x/)?', '[ab]', 'a{0,2}', 'b{2}', '|', '(', ')');
    fc.assert(
      fc.property(fc.array(atom, { minLength: 1, maxLength: 8 }), fc.stringMatching(/^[ab/.\-x0-9]{0,12}$/), (parts, path) => {
        const src = parts.join('');
        let re: InstanceType<typeof RE2JS>;
        try {
          re = RE2JS.compile(src);
        } catch {
          return true;
        }
        const lits = triggerLiterals(src);
        return !re.test(path) || lits === null || lits.some((l) => path.includes(l));
      }),
      { numRuns: 5000 },
    );
  });

  it('the simple-pattern matcher means what RE2 means (property, against re2js)', async () => {
    const fc = (await import('fast-check')).default;
    const { RE2JS } = await import('re2js');
    const { compileSimple } = await import('../../src/repo/ruleIndex.ts');
    const atom = fc.constantFrom('a', 'b', '/', '\\.', '.', '.*', '.+', 'a?', 'b*', 'a+', '\\d', '\\w', '\\S', '[ab]', '[^/]+', '[a-c]*', '[^a]', 'x', '-', '\\-', '_');
    const pattern = fc.tuple(fc.boolean(), fc.array(atom, { minLength: 1, maxLength: 7 }), fc.boolean()).map(([b, parts, e]) => `${b ? '^' : ''}${parts.join('')}${e ? '$' : ''}`);
    fc.assert(
      fc.property(pattern, fc.stringMatching(/^[abc/.x_\-1\n é]{0,12}$/), (src, path) => {
        const simple = compileSimple(src);
        if (!simple) return true;
        return simple(path) === RE2JS.compile(src).test(path);
      }),
      { numRuns: 20000 },
    );
    expect(compileSimple('(a|b)')).toBeNull();
    expect(compileSimple('a{2}')).toBeNull();
  });

  it('literals between .* gaps, matched without the NFA, mean what RE2 means (property, against re2js)', async () => {
    const fc = (await import('fast-check')).default;
    const { RE2JS } = await import('re2js');
    const { compileSimple, parseSimple } = await import('../../src/repo/ruleIndex.ts');
    const atom = fc.constantFrom('a', 'b', '/', 'ab', 'ba', '\\.', '.*', '\\$', '\\^', '\\\\', '\\-', '-', '_', '#', '.*?', '.*+', 'a*', '^', '$', ' ', 'é', '.');
    const pattern = fc.tuple(fc.boolean(), fc.array(atom, { minLength: 0, maxLength: 7 }), fc.boolean()).map(([b, parts, e]) => `${b ? '^' : ''}${parts.join('')}${e ? '$' : ''}`);
    let literal = 0;
    fc.assert(
      fc.property(pattern, fc.stringMatching(/^[ab/.\n\\$^ _é-]{0,10}$/), (src, path) => {
        let re: InstanceType<typeof RE2JS>;
        try {
          re = RE2JS.compile(src);
        } catch {
          return compileSimple(src) === null; // invalid RE2 is never taken as a simple pattern
        }
        const p = parseSimple(src);
        if (p?.segments) literal++;
        const simple = compileSimple(src);
        return simple === null || simple(path) === re.test(path);
      }),
      { numRuns: 20000 },
    );
    expect(literal).toBeGreaterThan(5000);
    const p = parseSimple('secrets/hosts/m1/.*\\.yaml$')!;
    expect([p.segments, p.segBegin, p.segEnd]).toEqual([['secrets/hosts/m1/', '.yaml'], false, true]);
    expect(parseSimple('^.*\\.yaml$')!.segBegin).toBe(false);
    expect(compileSimple('a.*b$')!('a\nb')).toBe(false);
    expect(compileSimple('a.*b$')!('x\na-b')).toBe(true);
  });

  it('first match in rule order, with literals, alternations and rules without a literal', async () => {
    const { RuleIndex } = await import('../../src/repo/ruleIndex.ts');
    const rules = [
      { pathRegex: 'secrets/users/crs58/[^/]+\\.yaml$', n: 0 },
      { pathRegex: '(secrets/shared\\.yaml$|secrets/services/.*\\.yaml$)', n: 1 },
      { pathRegex: '[a-z]+/hosts/', n: 2 },
      { pathRegex: '\\.yaml$', n: 3 },
      { pathRegex: null, n: 4 },
    ];
    const idx = new RuleIndex(rules);
    expect(idx.match('secrets/users/crs58/a.yaml')!.n).toBe(0);
    expect(idx.match('secrets/services/x/grafana.yaml')!.n).toBe(1);
    expect(idx.match('secrets/shared.yaml')!.n).toBe(1);
    expect(idx.match('secrets/hosts/a.json')!.n).toBe(2);
    expect(idx.match('other.yaml')!.n).toBe(3);
    expect(idx.match('x.json')!.n).toBe(4);
  });

  it('path_regex "^(a+)+$" on a long name takes linear time (RE2), and bad syntax names the rule', () => {
    const cfg = parseSopsConfig('creation_rules:\n  - path_regex: "^(a+)+$"\n    age: age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw\n');
    const t = Date.now();
    expect(matchRule(cfg, 'a'.repeat(100_000) + 'b')).toBeUndefined();
    expect(Date.now() - t).toBeLessThan(5000);
    expect(matchRule(cfg, 'aaaa')!.index).toBe(0);
    expect(() => matchRule(parseSopsConfig('creation_rules:\n  - path_regex: "a(?=b)"\n'), 'x')).toThrow(/creation rule 1: path_regex "a\(\?=b\)" is not a valid regular expression for sops \(RE2\)/);
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

describe('age headers with post-quantum recipients', () => {
  it('an mlkem768x25519 stanza counts like an X25519 one, and an age1pq1 recipient is expected as such', async () => {
    const { Encrypter, generateHybridIdentity, identityToRecipient } = await import('age-encryption');
    const pq = await identityToRecipient(await generateHybridIdentity());
    const e = new Encrypter();
    e.addRecipient(pq);
    const h = readAgeHeader(await e.encrypt('x'));
    expect(h).toEqual({ tagged: [], anonymous: 1, other: [] });
    expect(recipientHeaderId(pq)).toBe('anonymous');
  });
});

describe('secrets.nix without Nix', () => {
  it('outside the subset, the error says that installing Nix would evaluate it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keybridge-nonix-'));
    const fancy = 'let keys = { a = "x"; }; in builtins.listToAttrs []';
    writeFileSync(join(dir, 'secrets.nix'), fancy);
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => readSecretsNix(join(dir, 'secrets.nix'), fancy)).toThrow(/Nix is not installed here, .*install Nix \(nix-instantiate\) to evaluate it/);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('.sops.yaml: the line reader for the common layout', () => {
  it('gives what the full YAML reading gives, or declines (differential, generated layouts and mutations)', async () => {
    const fc = (await import('fast-check')).default;
    const { parseCommonLayout, parseSopsConfigYaml } = await import('../../src/repo/readers/sopsConfig.ts');
    const name = fc.constantFrom('a', 'b', 'admin-user', 'crs58-stibnite', 'm_1');
    const regex = fc.constantFrom('secrets/hosts/m1/.*\\.yaml$', '(secrets/shared\\.yaml$|x/.*)', '.*', '^a[^/]+\\.json$', 'x{2}', 'a|b');
    const group = fc.tuple(fc.boolean(), fc.array(name, { minLength: 1, maxLength: 3 })).map(([flow, ns]) => (flow ? `      - age: [${ns.map((n) => `*${n}`).join(', ')}]\n` : `      - age:\n${ns.map((n) => `          - *${n}\n`).join('')}`));
    const rule = fc.tuple(regex, fc.oneof(fc.array(group, { minLength: 1, maxLength: 2 }).map((gs) => `    key_groups:\n${gs.join('')}`), fc.array(name, { minLength: 1, maxLength: 2 }).map((ns) => `    age: ${ns.length === 1 ? `*${ns[0]}` : `[${ns.map((n) => `*${n}`).join(',')}]`}\n`))).map(([re, body]) => `  - path_regex: ${re}\n${body}`);
    const doc = fc.tuple(fc.array(rule, { minLength: 1, maxLength: 4 }), fc.boolean()).map(([rs, comment]) => `keys:\n  - &a ${R1}${comment ? ' # user a' : ''}\n  - &b ${R2}\n  - &admin-user ${R1}\n  - &crs58-stibnite ${R2}\n  - &m_1 ${R1}\n\n# rules\ncreation_rules:\n${rs.join('')}`);
    // mutations: a character changed, inserted or removed anywhere
    const mutated = fc.tuple(doc, fc.nat(), fc.constantFrom(' ', '\t', '#', ':', '"', '*', '-', '\n', 'x', '[', '&', '')).map(([d, at, c]) => {
      const i = at % d.length;
      return d.slice(0, i) + c + d.slice(i + (c === '' ? 1 : 0));
    });
    let read = 0;
    fc.assert(
      fc.property(fc.oneof(doc, mutated), (text) => {
        const fast = parseCommonLayout(text);
        if (fast === null) return true;
        read++;
        let full;
        try {
          full = parseSopsConfigYaml(text);
        } catch {
          return false; // the line reader accepted what the YAML reading rejects
        }
        expect(fast).toEqual(full);
        return true;
      }),
      { numRuns: 3000 },
    );
    expect(read).toBeGreaterThan(1000);
    // the example repos' files are read by the full parser or give the same result
    for (const f of ['dotsops.yaml']) {
      const text = readFileSync(`${FIX}/${f}`, 'utf8');
      const fast = parseCommonLayout(text);
      if (fast) expect(fast).toEqual(parseSopsConfigYaml(text));
    }
  });
});
