import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { convertPublicKeyLines, ed25519PublicKeyToAgeRecipient, parsePublicKeyLine, sshPublicKeyToAgeRecipient } from '../../src/index.ts';
import { PublicKeyLineConverter, type LineResult } from '../../src/ssh/lines.ts';

const FIXTURES = new URL('../fixtures/ssh-to-age/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');

function sshString(s: string | Uint8Array): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s) : Buffer.from(s);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}
const ed25519Blob = (pub: Uint8Array) => Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]).toString('base64');
const ecdsaBlob = Buffer.concat([sshString('ecdsa-sha2-nistp256'), sshString('nistp256'), sshString(new Uint8Array(65).fill(4))]).toString('base64');
const skBlob = Buffer.concat([sshString('sk-ssh-ed25519@openssh.com'), sshString(new Uint8Array(32).fill(9)), sshString('ssh:')]).toString('base64');

const KEY = fixture('id_ed25519.pub').trim(); // ssh-ed25519 AAAA… joerg@turingmachine
const B64 = KEY.split(' ')[1]!;
const AGE = 'age17044m9wgakla6pzftf4srtl3h5mcsr85jysgt5fg23zpnta8sfdqhzn452';

describe('lines the reference accepts convert identically', () => {
  const converted: [string, string][] = [
    ['single key with comment', KEY],
    ['single key without comment', `ssh-ed25519 ${B64}`],
    ['comment with several words', `ssh-ed25519 ${B64} Jörg at the turing machine`],
    ['CRLF line end', `${KEY}\r`],
    ['type field ignored on ssh- lines (type comes from the blob)', `ssh-rsa ${B64} x`],
    ['keyscan / known_hosts line', `example.org ssh-ed25519 ${B64}`],
    ['known_hosts with several hosts and a port', `[example.org]:2222,10.0.0.1 ssh-ed25519 ${B64}`],
    ['hashed known_hosts host', `|1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= ssh-ed25519 ${B64}`],
    ['@cert-authority marker', `@cert-authority *.example.org ssh-ed25519 ${B64} ca`],
    ['options without spaces (host field by accident)', `no-pty ssh-ed25519 ${B64} c`],
  ];
  for (const [name, line] of converted) {
    it(name, () => expect(sshPublicKeyToAgeRecipient(line)).toBe(AGE));
  }

  it('keyscan fixture: two recipients in order, two skipped rsa keys', () => {
    const r = convertPublicKeyLines(fixture('keyscan.txt'));
    expect(r.error).toBeUndefined();
    expect(r.results).toEqual([
      { line: 2, skippedKeyType: 'ssh-rsa' },
      { line: 4, recipient: 'age1hjm3aujg9e79f5yth8a2cejzdjg5n9vnu96l05p70uvfpeltnpms7yy3pp' },
      { line: 6, skippedKeyType: 'ssh-rsa' },
      { line: 8, recipient: 'age1v8zjc47jmlqwefyu66s0d4ke98qr4vnuj3cpvs4z9npfdw833dxqwjrhzv' },
    ]);
  });

  it('comments, empty lines and duplicates', () => {
    const r = convertPublicKeyLines(`# keys\n\n${KEY}\n${KEY}\n`);
    expect(r.results.map((x) => ('recipient' in x ? x.recipient : x.skippedKeyType))).toEqual([AGE, AGE]);
  });
});

describe('valid lines the reference rejects', () => {
  const converted: [string, string][] = [
    ['leading whitespace', `   \t${KEY}`],
    ['authorized_keys options with quoted spaces', `command="echo hi there",no-pty ssh-ed25519 ${B64} me@host`],
    ['options with escaped quotes', `environment="A=\\"x y\\"" ssh-ed25519 ${B64}`],
    ['known_hosts line with a long comment', `host ssh-ed25519 ${B64} a b c d e f`],
  ];
  for (const [name, line] of converted) {
    it(`converts: ${name}`, () => expect(sshPublicKeyToAgeRecipient(line)).toBe(AGE));
  }

  for (const [name, line] of [
    ['whitespace-only line', '   \t '],
    ['blank line of a CRLF file', '\r'],
    ['indented comment', '   # note'],
  ] as const) {
    it(`skips silently: ${name}`, () => expect(parsePublicKeyLine(line)).toEqual({ kind: 'blank' }));
  }

  it('bare ecdsa and sk keys are skipped with the key type', () => {
    expect(parsePublicKeyLine(`ecdsa-sha2-nistp256 ${ecdsaBlob} me@host`)).toEqual({ kind: 'unsupported', keyType: 'ecdsa-sha2-nistp256' });
    expect(parsePublicKeyLine(`ecdsa-sha2-nistp256 ${ecdsaBlob}`)).toEqual({ kind: 'unsupported', keyType: 'ecdsa-sha2-nistp256' });
    expect(parsePublicKeyLine(`sk-ssh-ed25519@openssh.com ${skBlob} yubikey`)).toEqual({
      kind: 'unsupported',
      keyType: 'sk-ssh-ed25519@openssh.com',
    });
  });

  it('a CRLF file converts whole', () => {
    const r = convertPublicKeyLines(`${KEY}\r\n\r\n  ${KEY}\r\n`);
    expect(r.error).toBeUndefined();
    expect(r.results).toEqual([
      { line: 1, recipient: AGE },
      { line: 3, recipient: AGE },
    ]);
  });
});

describe('malformed lines: error with line number and stable code', () => {
  const cases: [string, string, string, RegExp][] = [
    ['truncated base64', `ssh-ed25519 ${B64.slice(0, 30)} x`, 'INVALID_BASE64', /not valid base64/],
    ['base64 cut on a 4-character boundary', `ssh-ed25519 ${B64.slice(0, 64)}`, 'MALFORMED_PUBLIC_KEY', /truncated/],
    ['garbage', 'hello world', 'NOT_A_KEY_LINE', /not a public key line/],
    ['the string null (jq of a missing field)', 'null', 'NOT_A_KEY_LINE', /not a public key line/],
    ['ed25519 key of the wrong size', `ssh-ed25519 ${Buffer.concat([sshString('ssh-ed25519'), sshString(new Uint8Array(31))]).toString('base64')}`, 'MALFORMED_PUBLIC_KEY', /invalid size 31/],
  ];
  for (const [name, line, code, message] of cases) {
    it(name, () => {
      const r = convertPublicKeyLines(`${KEY}\n# c\n${line}\n${KEY}\n`);
      expect(r.error?.line).toBe(3);
      expect(r.error?.error.code).toBe(code);
      expect(r.error?.error.message).toMatch(message);
      expect(r.error?.error.message).not.toContain(B64.slice(0, 20));
    });
  }

  it('an invalid point is rejected (y = 2 is not on the curve)', () => {
    const y2 = new Uint8Array(32);
    y2[0] = 2;
    const r = convertPublicKeyLines(`${KEY}\nssh-ed25519 ${ed25519Blob(y2)} bad\n`);
    expect(r.error?.line).toBe(2);
    expect(r.error?.error.code).toBe('INVALID_POINT');
    expect(r.results).toEqual([{ line: 1, recipient: AGE }]);
  });

  it('reports the earliest bad line when an invalid point precedes a parse error', () => {
    const y2 = new Uint8Array(32);
    y2[0] = 2;
    const r = convertPublicKeyLines(`ssh-ed25519 ${ed25519Blob(y2)}\ngarbage here\n`);
    expect(r.error?.line).toBe(1);
  });

  it('a huge line of many fields fails fast (linear scan)', () => {
    const start = performance.now();
    const r = convertPublicKeyLines('ssh-x '.repeat(170_000)); // just under the 1 MiB line limit
    expect(r.error?.error.code).toBe('INVALID_BASE64');
    expect(performance.now() - start).toBeLessThan(10_000) // a quadratic scan would take minutes;
  });

  it('empty input converts to nothing without error', () => {
    expect(convertPublicKeyLines('')).toEqual({ results: [] });
  });
});

describe('property: one key, one recipient, whatever the line form', () => {
  const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const word = fc.stringMatching(/^[A-Za-z0-9@._-]{1,12}$/);
  const host = fc.oneof(
    fc.domain(),
    fc.ipV4(),
    fc.tuple(fc.domain(), fc.integer({ min: 1, max: 65535 })).map(([h, p]) => `[${h}]:${p}`),
  );
  const option = fc.oneof(
    fc.constantFrom('no-pty', 'no-agent-forwarding', 'restrict', 'cert-authority'),
    fc.stringMatching(/^[a-z0-9 ./=-]{0,20}$/).map((v) => `command="${v}"`),
    fc.ipV4().map((ip) => `from="${ip},10.0.0.0/8"`),
  );

  it('single key ≡ authorized_keys with options ≡ keyscan line ≡ known_hosts line', () => {
    fc.assert(
      fc.property(seed, fc.array(word, { maxLength: 3 }), fc.array(option, { minLength: 1, maxLength: 3 }), host, (s, comment, options, h) => {
        const pub = ed25519.getPublicKey(s);
        const expected = ed25519PublicKeyToAgeRecipient(pub);
        const b64 = ed25519Blob(pub);
        const c = comment.join(' ');
        const forms = [
          `ssh-ed25519 ${b64} ${c}`.trimEnd(),
          `${options.join(',')} ssh-ed25519 ${b64} ${c}`.trimEnd(),
          `${h} ssh-ed25519 ${b64}`,
          `${h},${h} ssh-ed25519 ${b64} ${c}`.trimEnd(),
        ];
        for (const form of forms) expect(sshPublicKeyToAgeRecipient(form)).toBe(expected);
        const whole = convertPublicKeyLines(forms.join('\n'));
        expect(whole.error).toBeUndefined();
        expect(whole.results.map((r) => ('recipient' in r ? r.recipient : null))).toEqual(forms.map(() => expected));
      }),
      { numRuns: 150 },
    );
  });
});

describe('PublicKeyLineConverter.pushBytes (lines read from the bytes, as the CLI streams them)', () => {
  /** Every line through push(string) and through pushBytes: the same results and the same error. */
  function bothWays(lines: Buffer[]) {
    const viaString: LineResult[] = [];
    const viaBytes: LineResult[] = [];
    const a = new PublicKeyLineConverter((r) => viaString.push(r));
    const b = new PublicKeyLineConverter((r) => viaBytes.push(r));
    const data = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
    let start = 0;
    for (const l of lines) {
      a.push(data.toString('utf8', start, start + l.length));
      b.pushBytes(data, start, start + l.length);
      start += l.length + 1;
    }
    const ea = a.finish();
    const eb = b.finish();
    expect(viaBytes).toEqual(viaString);
    expect(eb?.line).toBe(ea?.line);
    expect(eb?.error.code).toBe(ea?.error.code);
    return viaString;
  }

  it('plain lines and their near misses read the same from bytes as from strings', () => {
    const plain = `ssh-ed25519 ${B64}`;
    const variants = [
      plain,
      `${plain} comment`,
      `${plain}\tcomment`,
      `${plain}\r`,
      `${plain}\r trailing`,
      `${plain}x`,
      `${plain}\u00a0`,
      `${plain} Jörg`,
      `${plain.slice(0, 79)}`,
      `${plain.slice(0, 40)}-${plain.slice(41)}`,
      `${plain.slice(0, 40)}_${plain.slice(41)}`,
      `${plain.slice(0, 40)}\r${plain.slice(41)}`,
      `${plain.slice(0, 78)}==`,
      ` ${plain}`,
      `\ufeff${plain}`,
      `ssh-ed25519 ${ed25519Blob(new Uint8Array(32).fill(0).fill(2, 0, 1))}`,
      `ssh-ed25519 ${ecdsaBlob}`,
      '',
      '# comment',
    ];
    const converted = variants.filter((v) => bothWays([Buffer.from(v)]).some((r) => 'recipient' in r));
    expect(converted.length).toBeGreaterThan(6);
    bothWays(variants.map((v) => Buffer.from(v)));
    // and invalid UTF-8 after the key, a lone CR, a line of 2^20 + 1 characters
    bothWays([Buffer.concat([Buffer.from(`${plain} `), Buffer.from([0xff, 0xfe, 0xc3])]), Buffer.from('\r'), Buffer.from(`${plain} ${'x'.repeat(1 << 20)}`)]);
  });

  it('random lines around the plain form (fast-check)', () => {
    const pieces = [`ssh-ed25519 ${B64}`, 'ssh-ed25519 ', 'AAAAC3NzaC1lZDI1NTE5AAAAI', B64, ' ', '\t', '\r', '=', '-', '#', 'é', 'comment', 'ssh-rsa '];
    fc.assert(
      fc.property(fc.array(fc.array(fc.constantFrom(...pieces), { maxLength: 5 }), { minLength: 1, maxLength: 6 }), (lines) => {
        bothWays(lines.map((l) => Buffer.from(l.join(''))));
      }),
      { numRuns: 300 },
    );
  });
});
