import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DIST, keybridge, run, type RunResult } from '../helpers/run.ts';
import { findTool, itWith } from '../helpers/tools.ts';
import { encryptCopy, generateKey, tempDir, type GeneratedKey } from '../helpers/sshKeygen.ts';

const FIX = new URL('../fixtures/ssh-to-age/', import.meta.url).pathname;
const sshKeygen = findTool('ssh-keygen');
const age = findTool('age');
const ageKeygen = findTool('age-keygen');

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const e = { ...process.env, ...extra };
  if (!('SSH_TO_AGE_PASSPHRASE' in extra)) delete e.SSH_TO_AGE_PASSPHRASE;
  return e;
};
const sshToAge = (args: string[], opts: Parameters<typeof run>[2] = {}): Promise<RunResult> =>
  run(process.execPath, [`${DIST}/ssh-to-age.cjs`, ...args], { env: env(), ...opts });

const KEYSCAN_OUT =
  'age1hjm3aujg9e79f5yth8a2cejzdjg5n9vnu96l05p70uvfpeltnpms7yy3pp\nage1v8zjc47jmlqwefyu66s0d4ke98qr4vnuj3cpvs4z9npfdw833dxqwjrhzv\n';
const SKIP_RSA = 'skipped key: got ssh-rsa key type, but only ed25519 keys are supported\n';
const ID = 'AGE-SECRET-KEY-1K3VN4N03PTHJWSJSCCMQCN33RY5FSKQPJ4KRRTG3JMQUYE0TUSEQEDH6V8\n';
const ID_PASS = 'AGE-SECRET-KEY-1EJQ0DZ679RZ4MF6KDC8L8F327SHUULYD5XP53C08ZHYT0KQLNWJQHG7X8P\n';
const PEM_BODY_LINE = readFileSync(`${FIX}id_ed25519`, 'utf8').split('\n')[2]!;

/** The id_ed25519 test asset with its key count patched to 2 and the public key listed twice. */
function multiKeyPem(): string {
  const pem = readFileSync(`${FIX}id_ed25519`, 'utf8');
  const body = Buffer.from(pem.split('\n').filter((l) => l && !l.startsWith('-----')).join(''), 'base64');
  const at = 15 + 8 + 8 + 4;
  const pub = body.subarray(at + 4, at + 8 + body.readUInt32BE(at + 4));
  const multi = Buffer.concat([body.subarray(0, at), Buffer.from([0, 0, 0, 2]), pub, body.subarray(at + 4)]);
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${multi.toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

function expectNoKeyMaterial(r: RunResult): void {
  expect(r.stderr).not.toContain(PEM_BODY_LINE.slice(0, 24));
  expect(r.stderr).not.toMatch(/[A-Za-z0-9+/]{40,}/);
  expect(r.stderr).not.toMatch(/AGE-SECRET-KEY/);
}

describe('ssh-to-age: reference behaviour', () => {
  it('public keys from stdin: exact stdout and stderr of the keyscan test asset', async () => {
    const r = await sshToAge([], { input: readFileSync(`${FIX}keyscan.txt`) });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(KEYSCAN_OUT);
    expect(r.stderr).toBe(SKIP_RSA + SKIP_RSA);
  });

  it('-i FILE, --i=FILE and -i=FILE read the same input', async () => {
    for (const args of [['-i', `${FIX}id_ed25519.pub`], [`--i=${FIX}id_ed25519.pub`], [`-i=${FIX}id_ed25519.pub`]]) {
      const r = await sshToAge(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('age17044m9wgakla6pzftf4srtl3h5mcsr85jysgt5fg23zpnta8sfdqhzn452\n');
    }
  });

  it('-private-key (unencrypted) and --private-key with SSH_TO_AGE_PASSPHRASE', async () => {
    const a = await sshToAge(['-private-key', '-i', `${FIX}id_ed25519`]);
    expect([a.code, a.stdout, a.stderr]).toEqual([0, ID, '']);
    const b = await sshToAge(['--private-key', '-i', `${FIX}id_ed25519_passphrase`], { env: env({ SSH_TO_AGE_PASSPHRASE: 'test' }) });
    expect([b.code, b.stdout, b.stderr]).toEqual([0, ID_PASS, '']);
  });

  it('-private-key reads the key from stdin', async () => {
    const r = await sshToAge(['-private-key=true'], { input: readFileSync(`${FIX}id_ed25519`) });
    expect([r.code, r.stdout]).toEqual([0, ID]);
  });

  it('-stdinpass takes the passphrase from stdin, trailing CR/LF removed, and overrides the environment', async () => {
    const r = await sshToAge(['-private-key', '-stdinpass', '-i', `${FIX}id_ed25519_passphrase`], {
      input: 'test\r\n\n',
      env: env({ SSH_TO_AGE_PASSPHRASE: 'wrong' }),
    });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, ID_PASS, '']);
  });

  it('-stdinpass with the key on stdin is an error (exit 1)', async () => {
    const r = await sshToAge(['-private-key', '-stdinpass'], { input: 'test\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ssh-to-age: cannot read both private key and passphrase from stdin/);
    expect(r.stdout).toBe('');
  });

  it('-version prints before any input or output is opened', async () => {
    const dir = tempDir();
    const r = await sshToAge(['-version', '-o', join(dir, 'out'), '-i', join(dir, 'missing')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^1\.3\.0 \(keybridge \d+\.\d+\.\d+\)\n$/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('usage errors exit 2; -help exits 0', async () => {
    for (const args of [['-x'], ['--private'], ['-i'], ['key.pub'], ['-private-key=maybe']]) {
      const r = await sshToAge(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^ssh-to-age: /);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const h = await sshToAge(['-help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/Usage: ssh-to-age/);
  });

  it('runs as `keybridge ssh-to-age` with the same output and its own prefix', async () => {
    const ok = await keybridge(['ssh-to-age', '-i', `${FIX}keyscan.txt`], { env: env() });
    expect([ok.code, ok.stdout, ok.stderr]).toEqual([0, KEYSCAN_OUT, SKIP_RSA + SKIP_RSA]);
    const bad = await keybridge(['ssh-to-age'], { input: 'garbage line\n', env: env() });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      "keybridge ssh-to-age: line 1: not a public key line: expected 'ssh-ed25519 AAAA… [comment]', an authorized_keys entry or a known_hosts / ssh-keyscan line\n",
    );
  });
});

describe('ssh-to-age: errors are one line, name the line, never the key, and write nothing', () => {
  const pub = () => readFileSync(`${FIX}id_ed25519.pub`, 'utf8');
  const cases: [string, () => string, RegExp][] = [
    ['truncated base64', () => `${pub()}${pub().slice(0, 50)}\n`, /^ssh-to-age: line 2: .*not valid base64/],
    ['invalid point', () => `# c\nssh-ed25519 ${Buffer.from([0, 0, 0, 11, ...Buffer.from('ssh-ed25519'), 0, 0, 0, 32, 2, ...new Array(31).fill(0)]).toString('base64')}\n`, /^ssh-to-age: line 2: cannot convert ed25519 public key to curve25519: invalid point encoding/],
    ['garbage', () => `${pub()}\u0000\u0001binary junk here\n`, /^ssh-to-age: line 2: not a public key line/],
  ];
  for (const [name, input, message] of cases) {
    it(`public: ${name} → exit 1, nothing on stdout, no -o file`, async () => {
      const r = await sshToAge([], { input: input() });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toContain('AAAAC3NzaC1lZDI1NTE5');
      const dir = tempDir();
      const o = await sshToAge(['-o', join(dir, 'recipients.txt')], { input: input() });
      expect(o.code).toBe(1);
      expect(readdirSync(dir)).toEqual([]);
    });
  }

  it('public: empty input → exit 0, no output, a warning', async () => {
    const r = await sshToAge([], { input: '' });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', 'warning: no public keys in the input\n']);
  });

  const privateCases: [string, () => string, NodeJS.ProcessEnv, RegExp][] = [
    ['wrong passphrase', () => readFileSync(`${FIX}id_ed25519_passphrase`, 'utf8'), { SSH_TO_AGE_PASSPHRASE: 'nope' }, /the passphrase is incorrect/],
    ['missing passphrase', () => readFileSync(`${FIX}id_ed25519_passphrase`, 'utf8'), {}, /passphrase protected: set SSH_TO_AGE_PASSPHRASE/],
    ['empty input', () => '', {}, /the input is empty/],
    ['multi-key container', multiKeyPem, {}, /multi-key files are not supported/],
    ['garbage', () => 'garbage\n', {}, /no private key found/],
    ['truncated PEM', () => readFileSync(`${FIX}id_ed25519`, 'utf8').replace(/\n[^\n]*\n-----END/, '\n-----END'), {}, /malformed OpenSSH private key/],
  ];
  for (const [name, input, extra, message] of privateCases) {
    it(`private: ${name} → exit 1, key never echoed, -o target untouched`, async () => {
      const dir = tempDir();
      const keyFile = join(dir, 'key');
      writeFileSync(keyFile, input(), { mode: 0o600 });
      const out = join(dir, 'keys.txt');
      const r = await sshToAge(['-private-key', '-i', keyFile, '-o', out], { env: env(extra) });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^ssh-to-age: failed to convert the private key: /);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expectNoKeyMaterial(r);
      expect(existsSync(out)).toBe(false);
      writeFileSync(out, 'previous\n');
      await sshToAge(['-private-key', '-i', keyFile, '-o', out], { env: env(extra) });
      expect(readFileSync(out, 'utf8')).toBe('previous\n');
      expect(readdirSync(dir).sort()).toEqual(['key', 'keys.txt']);
    });
  }

  it('unreadable input file: reference wording, exit 1', async () => {
    const r = await sshToAge(['-i', '/nonexistent/key.pub']);
    expect([r.code, r.stderr]).toEqual([1, 'ssh-to-age: error reading /nonexistent/key.pub: no such file or directory\n']);
  });
});

describe('ssh-to-age -json', () => {
  it('public keys: recipients and skipped keys with their line numbers, nothing on stderr', async () => {
    const r = await sshToAge(['-json', '-i', `${FIX}keyscan.txt`]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(r.stdout)).toEqual({
      recipients: [
        { line: 4, recipient: KEYSCAN_OUT.split('\n')[0] },
        { line: 8, recipient: KEYSCAN_OUT.split('\n')[1] },
      ],
      skipped: [
        { line: 2, keyType: 'ssh-rsa' },
        { line: 6, keyType: 'ssh-rsa' },
      ],
    });
  });

  it('private key: identity and its recipient', async () => {
    const r = await sshToAge(['--json', '-private-key', '-i', `${FIX}id_ed25519`]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ identity: ID.trim(), recipient: 'age17044m9wgakla6pzftf4srtl3h5mcsr85jysgt5fg23zpnta8sfdqhzn452' });
  });
});

describe('ssh-to-age -o', () => {
  it('private key output is written atomically with mode 0600; a replaced key is kept as .bak', async () => {
    const dir = tempDir();
    const out = join(dir, 'keys.txt');
    const r = await sshToAge(['-private-key', '-i', `${FIX}id_ed25519`, '-o', out]);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
    expect(readFileSync(out, 'utf8')).toBe(ID);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const again = await sshToAge(['-private-key', '-i', `${FIX}id_ed25519_passphrase`, '-o', out], { env: env({ SSH_TO_AGE_PASSPHRASE: 'test' }) });
    expect(again.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(ID_PASS);
    expect(readFileSync(`${out}.bak`, 'utf8')).toBe(ID);
    expect(statSync(`${out}.bak`).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['keys.txt', 'keys.txt.bak']);
  });

  it('public output goes to the file', async () => {
    const dir = tempDir();
    const r = await sshToAge(['-i', `${FIX}keyscan.txt`, '-o', join(dir, 'r.txt')]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'r.txt'), 'utf8')).toBe(KEYSCAN_OUT);
  });

  it('-o /dev/stdout writes to the device as the reference does', async () => {
    // Through a shell pipe (a FIFO), as in `ssh-to-age -o /dev/stdout | …`.
    const r = await run('sh', ['-c', '"$0" "$1" -i "$2" -o /dev/stdout | cat', process.execPath, `${DIST}/ssh-to-age.cjs`, `${FIX}keyscan.txt`], { env: env() });
    expect([r.code, r.stdout]).toEqual([0, KEYSCAN_OUT]);
  });

  it('an unencrypted key with SSH_TO_AGE_PASSPHRASE set converts with a warning', async () => {
    const r = await sshToAge(['-private-key', '-i', `${FIX}id_ed25519`], { env: env({ SSH_TO_AGE_PASSPHRASE: 'x' }) });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, ID, 'warning: the private key is not passphrase protected; ignoring the passphrase\n']);
  });
});

describe('ssh-to-age with ssh-keygen keys and the real age CLI', () => {
  let dir: string;
  let ed: GeneratedKey;
  beforeAll(() => {
    if (sshKeygen.missing) return;
    dir = tempDir();
    ed = generateKey(dir, 'ed');
  });

  itWith([sshKeygen])('authorized_keys with ed25519, rsa and ecdsa keys and options', async () => {
    const rsa = generateKey(dir, 'rsa', 'rsa');
    const ecdsa = generateKey(dir, 'ecdsa', 'ecdsa');
    const one = (await sshToAge([], { input: ed.publicKey })).stdout;
    const authorized = [
      `command="echo a b",no-pty ${ed.publicKey.trim()}`,
      rsa.publicKey.trim(),
      `  ${ecdsa.publicKey.trim()}`,
      `host.example ${ed.publicKey.trim()}`,
    ].join('\r\n');
    const r = await sshToAge([], { input: authorized });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(one + one);
    expect(r.stderr).toBe(SKIP_RSA + 'skipped key: got ecdsa-sha2-nistp256 key type, but only ed25519 keys are supported\n');
  });

  itWith([sshKeygen, age, ageKeygen])('a file encrypted to the recipient decrypts with the identity; age-keygen -y agrees', async () => {
    const enc = encryptCopy(ed, dir, 'ed-chacha', 'chacha20-poly1305@openssh.com', 'pw');
    const recipient = (await sshToAge(['-i', `${enc.path}.pub`])).stdout.trim();
    const idFile = join(dir, 'identity.txt');
    const conv = await sshToAge(['-private-key', '-i', enc.path, '-o', idFile], { env: env({ SSH_TO_AGE_PASSPHRASE: 'pw' }) });
    expect(conv.code).toBe(0);
    const derived = await run('age-keygen', ['-y', idFile]);
    expect(derived.stdout.trim()).toBe(recipient);

    const secret = `sops data ${Math.random()}\n`;
    const encrypted = await run('age', ['-r', recipient], { input: secret });
    expect(encrypted.code).toBe(0);
    expect(encrypted.stdoutBytes.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    const decrypted = await run('age', ['-d', '-i', idFile], { input: encrypted.stdoutBytes });
    expect(decrypted.code).toBe(0);
    expect(decrypted.stdout).toBe(secret);
  });
});

describe('ssh-to-age on large input (converted on a worker thread, streamed)', () => {
  const pub = readFileSync(`${FIX}id_ed25519.pub`, 'utf8').trim();
  const rsa = readFileSync(`${FIX}keyscan.txt`, 'utf8').split('\n').find((l) => l.includes('ssh-rsa'))!;
  const RECIPIENT = 'age17044m9wgakla6pzftf4srtl3h5mcsr85jysgt5fg23zpnta8sfdqhzn452\n';

  it('the same output, skip messages and line numbers as for small input', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => (i % 1000 === 999 ? rsa : `${pub} n${i}`));
    const r = await sshToAge([], { input: lines.join('\n') + '\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(RECIPIENT.repeat(4995));
    expect(r.stderr).toBe(SKIP_RSA.repeat(5));
    const json = JSON.parse((await sshToAge(['-json'], { input: lines.join('\n') })).stdout);
    expect(json.recipients).toHaveLength(4995);
    expect(json.skipped.map((s: { line: number }) => s.line)).toEqual([1000, 2000, 3000, 4000, 5000]);
  });

  it('an error late in a large input: nothing on stdout, the failing line named', async () => {
    const lines = Array.from({ length: 6000 }, (_, i) => (i === 4321 ? 'not a key' : pub));
    const r = await sshToAge([], { input: lines.join('\n') });
    expect([r.code, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toMatch(/^ssh-to-age: line 4322: not a public key line/);
  });
});

describe('the installed entry points', () => {
  it('package.json runs the CommonJS bundles; the .mjs names load the same code', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(pkg.bin['ssh-to-age']).toBe('dist/ssh-to-age.cjs');
    expect(pkg.bin.keybridge).toBe('dist/keybridge.cjs');
    for (const entry of ['ssh-to-age.cjs', 'ssh-to-age.mjs']) {
      const r = await run(process.execPath, [`${DIST}/${entry}`, '-i', `${FIX}keyscan.txt`]);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, KEYSCAN_OUT, SKIP_RSA + SKIP_RSA]);
    }
    const bad = await run(process.execPath, [`${DIST}/ssh-to-age.mjs`, '-nope']);
    expect(bad.stderr).toBe('ssh-to-age: flag provided but not defined: -nope (see -help)\n');
    // keybridge's heavy subcommands load from dist/commands/ on use
    const v = await run(process.execPath, [`${DIST}/keybridge.mjs`, 'validate', '--help']);
    expect([v.code, v.stdout.split('\n')[0]]).toEqual([0, 'Usage: keybridge validate [REPO] [options]']);
  });
});
