/**
 * age-plugin-yubikey end to end: the real `age` CLI (Debian 1.1.1) runs our plugin from PATH,
 * which talks PC/SC to pcscd, vpcd and the virtual YubiKey. PINs are typed into a pty.
 */
import { expect } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Decrypter, Encrypter, Stanza } from 'age-encryption';
import { YubiKeyIdentity, YubiKeyRecipient } from '../../../src/plugins/yubikey/typage.ts';
import { openPcsc } from '../../../src/transport/pcsc.ts';
import { describeWithRig, type RigContext } from '../../helpers/rig.ts';
import { holdCard } from '../../helpers/holdCard.ts';
import { DIST, ROOT, run } from '../../helpers/run.ts';
import { findTool, itWith } from '../../helpers/tools.ts';
import type { VirtualYubiKey } from '../../../src/sim/yubikey/card.ts';

const age = findTool('age');
const ykman = findTool('ykman');
const python = findTool('python3');
const PLUGIN = `${DIST}/age-plugin-yubikey.mjs`;
const PTY = `${ROOT}scripts/pty-run.py`;
const NEW_PIN = '471129';

function plugin(ctx: RigContext, args: string[], input = '', extraEnv: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, [PLUGIN, ...args], { input, env: { ...ctx.env, ...extraEnv }, noTty: true });
}

/**
 * Runs `age` on a pty, answering prompts in order; answers come through the environment.
 * `onOutput` sees the terminal transcript as it grows (to wait for a prompt).
 */
function ageOnPty(ctx: RigContext, args: string[], answers: [RegExp, string][] = [], extraEnv: NodeJS.ProcessEnv = {}, timeout = 30, onOutput?: (soFar: string) => void) {
  const flags: string[] = [];
  const env: NodeJS.ProcessEnv = { ...ctx.env, ...extraEnv };
  answers.forEach(([re, value], i) => {
    flags.push('--expect', re.source, '--send', '@env');
    env[`PTY_SEND_${i + 1}`] = value;
  });
  return run('python3', [PTY, '--timeout', String(timeout), ...flags, '--', 'age', ...args], { env, noTty: true, timeoutMs: (timeout + 10) * 1000, ...(onOutput ? { onStdout: onOutput } : {}) });
}

/** Resolves once `check()` holds, checking every 20 ms; fails after `timeoutMs` (generous: the machine may be loaded). */
async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Pulls the card out (slot 0), waiting until pcscd reports the reader empty. */
async function unplug(ctx: RigContext, yk: VirtualYubiKey, slot: 0 | 1 = 0): Promise<void> {
  await yk.remove();
  await ctx.rig.waitForCard(slot, 'absent');
}

/** Plugs the card in (slot 0), waiting until pcscd reports it. */
async function plug(ctx: RigContext, yk: VirtualYubiKey, slot: 0 | 1 = 0): Promise<void> {
  await yk.insert();
  await ctx.rig.waitForCard(slot, 'present');
}

/** Unplugs and replugs the card: a fresh card session. */
async function replug(ctx: RigContext, yk: VirtualYubiKey): Promise<void> {
  await unplug(ctx, yk);
  await plug(ctx, yk);
}

async function generate(ctx: RigContext, yk: VirtualYubiKey, args: string[], pins = `123456\n12345678\n${NEW_PIN}\n${NEW_PIN}\n`) {
  const r = await plugin(ctx, ['--generate', '--serial', String(yk.serial), ...args], pins);
  expect(r.stderr).not.toContain(NEW_PIN);
  expect(r.code, r.stderr).toBe(0);
  const recipient = /#    Recipient: (age1yubikey1\w+)/.exec(r.stdout)![1]!;
  const identity = /^(AGE-PLUGIN-YUBIKEY-1\w+)$/m.exec(r.stdout)![1]!;
  return { block: r.stdout, recipient, identity };
}

describeWithRig('age-plugin-yubikey with the real age CLI', (ctx) => {
  let yk: VirtualYubiKey;
  let id: { block: string; recipient: string; identity: string };
  let idFile: string;
  let encrypted: string;

  itWith([age, python])('generates an identity (default PIN changed, AES-192 management key migrated) that ykman recognises', async () => {
    yk = await ctx.yubikey({ serial: 12345678, version: '5.7.1', statePath: join(ctx.dir, 'yk1.json') });
    id = await generate(ctx, yk, ['--name', 'ci key', '--pin-policy', 'once', '--touch-policy', 'always']);
    expect(id.block).toMatch(/^#       Serial: 12345678, Slot: 1\n#         Name: ci key\n#      Created: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000\n#   PIN policy: Once   \(A PIN is required once per session, if set\)\n# Touch policy: Always \(A physical touch is required for every decryption\)\n#    Recipient: age1yubikey1\w+\nAGE-PLUGIN-YUBIKEY-1\w+\n$/);
    idFile = join(ctx.dir, 'identity.txt');
    writeFileSync(idFile, id.block);
    const state = JSON.parse(readFileSync(join(ctx.dir, 'yk1.json'), 'utf8'));
    expect(state.mgmtAlgorithm).toBe(0x0a);
    expect(state.mgmtIsDefault).toBe(false);
    expect(state.pinIsDefault).toBe(false);
    const info = await run('ykman', ['--device', '12345678', 'piv', 'info'], { env: ctx.env });
    expect(info.stdout).toContain('Management key is stored on the YubiKey, protected by PIN.');
    expect(info.stdout).toContain('Subject DN:\tCN=ci key,OU=0.5.0,O=age-plugin-yubikey');
  });

  itWith([age])('--list and --identity print the same key', async () => {
    const list = await plugin(ctx, ['--list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(`${id.recipient}\n\n`);
    expect(list.stdout).toContain('#         Name: ci key');
    const ident = await plugin(ctx, ['--identity', '--serial', '12345678', '--slot', '1']);
    expect(ident.stdout).toBe(id.block);
    const json = JSON.parse((await plugin(ctx, ['--list', '--json'])).stdout);
    expect(json).toMatchObject([{ serial: 12345678, slot: 1, name: 'ci key', pinPolicy: 'once', touchPolicy: 'always', recipient: id.recipient, identity: id.identity }]);
    const tag = await plugin(ctx, ['--list', '--tag']);
    expect(tag.stdout).toContain(json[0].tagRecipient);
    expect(tag.stdout).not.toContain(id.recipient);
  });

  itWith([age, python])('age -r encrypts; age -d asks the PIN on the terminal once, then the card remembers it', async () => {
    // pcscd powers an idle card down about a second after the last connection closes (which
    // clears the verified PIN); a held connection, as the agent keeps, makes that independent of
    // how fast the second age process starts on a loaded machine.
    const hold = await holdCard(ctx.rig.readerNames[0]);
    try {
      await decryptTwice();
    } finally {
      await hold.release();
    }
  });

  async function decryptTwice() {
    const plain = join(ctx.dir, 'plain.txt');
    writeFileSync(plain, 'the secret\n');
    encrypted = join(ctx.dir, 'secret.age');
    const enc = await run('age', ['-r', id.recipient, '-o', encrypted, plain], { env: ctx.env });
    expect(enc.code, enc.stderr).toBe(0);
    expect(readFileSync(encrypted, 'latin1')).toMatch(/^-> piv-p256 \S{6} \S{44}$/m);
    const touches = yk.touchRequests;
    const dec = await ageOnPty(ctx, ['-d', '-i', idFile, encrypted], [[/Enter PIN for YubiKey with serial 12345678/, NEW_PIN]]);
    expect(dec.code, dec.stdout).toBe(0);
    expect(dec.stdout).toContain('the secret');
    expect(dec.stdout).toContain('Touch your YubiKey with serial 12345678');
    expect(dec.stdout).not.toContain(NEW_PIN);
    expect(yk.touchRequests).toBe(touches + 1);
    const again = await ageOnPty(ctx, ['-d', '-i', idFile, encrypted]);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).not.toContain('Enter PIN');
    expect(again.stdout).toContain('the secret');
  }

  itWith([age, python])('encrypting "to an identity" (age -e -i) reads the slot key from the card, without a PIN', async () => {
    const f = join(ctx.dir, 'to-identity.age');
    const enc = await run('age', ['-e', '-i', idFile, '-o', f, join(ctx.dir, 'plain.txt')], { env: ctx.env, noTty: true });
    expect(enc.code, enc.stderr).toBe(0);
    expect(readFileSync(f, 'latin1')).toMatch(/^-> piv-p256 \S{6} \S{44}$/m);
    const dec = await ageOnPty(ctx, ['-d', '-i', idFile, f], [[/Enter PIN/, NEW_PIN]]);
    expect(dec.stdout).toContain('the secret');
    // a stub whose YubiKey is absent cannot be encrypted to
    const ghost = join(ctx.dir, 'ghost.txt');
    writeFileSync(ghost, 'AGE-PLUGIN-YUBIKEY-1FESMCQYZQWK0A6QMMP3FW\n'); // serial 12345678 slot 1, but another key's tag
    const bad = await run('age', ['-e', '-i', ghost, '-o', join(ctx.dir, 'ghost.age'), join(ctx.dir, 'plain.txt')], { env: ctx.env, noTty: true });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('A YubiKey stub did not match the YubiKey');
  });

  itWith([age, python])('a wrong PIN shows the retries left and asks again; the last retry is never spent', async () => {
    await replug(ctx, yk); // a fresh card session: PIN no longer verified
    const dec = await ageOnPty(ctx, ['-d', '-i', idFile, encrypted], [
      [/Enter PIN/, '000000'],
      [/Invalid PIN \(2 tries remaining before it is blocked\)\. Enter PIN/, NEW_PIN],
    ]);
    expect(dec.code, dec.stdout).toBe(0);
    expect(dec.stdout).toContain('the secret');
    expect(yk.store.state.pinRetriesLeft).toBe(3);

    await replug(ctx, yk);
    const bad = await ageOnPty(ctx, ['-d', '-i', idFile, encrypted], [
      [/Enter PIN/, '000000'],
      [/2 tries remaining/, '111111'],
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toContain('Only 1 PIN try is left on YubiKey with serial 12345678');
    expect(yk.store.state.pinRetriesLeft).toBe(1);
    // unblock the counter for the next tests
    yk.store.state.pinRetriesLeft = 3;
  });

  itWith([age, python])('touch refused or timed out: a clear error', async () => {
    yk.setTouch('deny');
    const denied = await ageOnPty(ctx, ['-d', '-i', idFile, encrypted], [[/Enter PIN/, NEW_PIN]]);
    expect(denied.code).not.toBe(0);
    expect(denied.stdout).toContain('was not touched in time (or the touch was refused)');
    yk.setTouch({ timeoutMs: 300 });
    const timedOut = await ageOnPty(ctx, ['-d', '-i', idFile, encrypted], [[/Enter PIN/, NEW_PIN]]);
    expect(timedOut.code).not.toBe(0);
    expect(timedOut.stdout).toContain('was not touched in time');
    yk.setTouch('approve');
  });

  itWith([age, python])('the YubiKey pulled out in the middle of a decryption', async () => {
    yk.setTouch({ timeoutMs: 4000 });
    const touches = yk.touchRequests;
    const pending = ageOnPty(ctx, ['-d', '-i', idFile, encrypted], [[/Enter PIN/, NEW_PIN]]);
    await until('the card to ask for a touch', () => yk.touchRequests > touches);
    await yk.remove();
    const r = await pending;
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/was removed during the operation|not touched in time/);
    yk.setTouch('approve');
    await plug(ctx, yk);
  });

  itWith([age, python])('an absent YubiKey: asked for through confirm (skip), or skipped silently with AGE_PLUGIN_YUBIKEY_SKIP_NOT_FOUND', async () => {
    await unplug(ctx, yk);
    const asked = await ageOnPty(ctx, ['-d', '-i', idFile, encrypted], [[/Please insert YubiKey with serial 12345678/, '2']]);
    expect(asked.code).not.toBe(0);
    expect(asked.stdout).toContain('Please insert YubiKey with serial 12345678');
    expect(asked.stdout).toMatch(/no identity matched/);
    const skipped = await ageOnPty(ctx, ['-d', '-i', idFile, encrypted], [], { AGE_PLUGIN_YUBIKEY_SKIP_NOT_FOUND: '1' });
    expect(skipped.stdout).not.toContain('Please insert');
    expect(skipped.stdout).toMatch(/no identity matched/);
    const noTty = await run('age', ['-d', '-i', idFile, encrypted], { env: ctx.env, noTty: true });
    expect(noTty.code).not.toBe(0);
    expect(noTty.stderr).toContain('is not plugged in and there is no terminal to ask for it');
    // insert it while the plugin waits: answer "yes" after plugging in
    let transcript = '';
    const pending = ageOnPty(
      ctx,
      ['-d', '-i', idFile, encrypted],
      [
        [/Please insert YubiKey/, '1'],
        [/Enter PIN/, NEW_PIN],
      ],
      {},
      30,
      (soFar) => (transcript = soFar),
    );
    await until('the plugin to ask for the YubiKey', () => transcript.includes('Please insert YubiKey'));
    await yk.insert();
    const r = await pending;
    expect(r.stdout).toContain('Please insert YubiKey with serial 12345678');
    expect(r.stdout).toContain('the secret');
  }, 60_000);

  itWith([age, python])('PIN policy always and touch policy cached: the PIN every time, one touch per 15 s', async () => {
    const g = await generate(ctx, yk, ['--slot', '3', '--pin-policy', 'always', '--touch-policy', 'cached', '--name', 'always-cached'], `${NEW_PIN}\n`);
    expect(g.block).toContain('#   PIN policy: Always (A PIN is required for every decryption, if set)');
    expect(g.block).toContain('# Touch policy: Cached (A physical touch is required for decryption, and is cached for 15 seconds)');
    const idf = join(ctx.dir, 'always.txt');
    writeFileSync(idf, g.block);
    const f = join(ctx.dir, 'always.age');
    await run('age', ['-r', g.recipient, '-o', f, join(ctx.dir, 'plain.txt')], { env: ctx.env });
    const touches = yk.touchRequests;
    for (let i = 0; i < 2; i++) {
      const r = await ageOnPty(ctx, ['-d', '-i', idf, f], [[/Enter PIN for YubiKey with serial 12345678/, NEW_PIN]]);
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).toContain('the secret');
    }
    expect(yk.touchRequests - touches).toBeLessThanOrEqual(1);
  });

  itWith([age, python])('a blocked PIN is reported with the unblock command, without a prompt', async () => {
    yk.store.state.pinRetriesLeft = 0;
    await replug(ctx, yk);
    const r = await ageOnPty(ctx, ['-d', '-i', idFile, encrypted], [], {}, 15);
    yk.store.state.pinRetriesLeft = 3;
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain('Enter PIN');
    expect(r.stdout).toContain('The PIN of YubiKey with serial 12345678 is blocked. Unblock it with `ykman --device 12345678 piv access unblock-pin` and the PUK.');
  });

  itWith([age, python])('a card held exclusively by another program: a message naming the cause and the fix', async () => {
    const { createRequire } = await import('node:module');
    const pcsclite = createRequire(import.meta.url)('pcsclite');
    const pcsc = pcsclite();
    pcsc.on('error', () => undefined);
    const reader = await new Promise<any>((resolve) =>
      pcsc.on('reader', (rd: any) => {
        rd.on('error', () => undefined);
        if (rd.name.endsWith('00 00')) resolve(rd);
      }),
    );
    await new Promise<void>((resolve, reject) => reader.connect({ share_mode: reader.SCARD_SHARE_EXCLUSIVE }, (err: Error | null) => (err ? reject(err) : resolve())));
    try {
      const t = Date.now();
      const r = await run('age', ['-d', '-i', idFile, encrypted], { env: ctx.env, noTty: true });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('is held exclusively by another program (usually scdaemon from GnuPG, or yubikey-agent)');
      expect(r.stderr).toContain('gpgconf --kill scdaemon');
      expect(Date.now() - t).toBeGreaterThanOrEqual(1400); // it retried before giving up
    } finally {
      await new Promise((resolve) => reader.disconnect(reader.SCARD_LEAVE_CARD, resolve));
      reader.close();
      pcsc.close();
    }
  });

  itWith([age, python])('two YubiKeys and a file encrypted to both: either one decrypts it', async () => {
    const yk2 = await ctx.yubikey({ slot: 1, serial: 23456789, version: '5.4.3' });
    const second = await generate(ctx, yk2, ['--pin-policy', 'never', '--touch-policy', 'never']);
    const none = await plugin(ctx, ['--generate', '--pin-policy', 'never'], '');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('Multiple YubiKeys are plugged in. Use --serial to select a single YubiKey.');
    const both = join(ctx.dir, 'both.age');
    const enc = await run('age', ['-r', id.recipient, '-r', second.recipient, '-o', both, join(ctx.dir, 'plain.txt')], { env: ctx.env });
    expect(enc.code, enc.stderr).toBe(0);
    const id2 = join(ctx.dir, 'identity2.txt');
    writeFileSync(id2, second.block);
    const r = await run('age', ['-d', '-i', id2, both], { env: ctx.env, noTty: true });
    expect(r.stdout).toBe('the secret\n');
    // TDES management key on firmware 5.4 was migrated too
    expect(yk2.store.state.mgmtAlgorithm).toBe(0x03);
    await unplug(ctx, yk);
    const r2 = await run('age', ['-d', '-i', id2, both], { env: ctx.env, noTty: true });
    expect(r2.stdout).toBe('the secret\n');
    // One identity file with both stubs, a file only for the second YubiKey, the first one absent:
    // only the referenced YubiKey is touched, nobody is asked to insert the other one.
    const onlySecond = join(ctx.dir, 'only-second.age');
    await run('age', ['-r', second.recipient, '-o', onlySecond, join(ctx.dir, 'plain.txt')], { env: ctx.env });
    const bothIds = join(ctx.dir, 'both-identities.txt');
    writeFileSync(bothIds, id.block + second.block);
    const r3 = await ageOnPty(ctx, ['-d', '-i', bothIds, onlySecond]);
    expect(r3.code, r3.stdout).toBe(0);
    expect(r3.stdout).toContain('the secret');
    expect(r3.stdout).not.toContain('Please insert');
    await plug(ctx, yk);
    await unplug(ctx, yk2, 1);
  });

  itWith([age, ykman, python])('a key made by ykman (foreign, --list-all) decrypts too', async () => {
    const pub = join(ctx.dir, 'foreign.pem');
    const mk = yk.store.state.mgmtKey; // the PIN-protected key we stored; ykman reads it with the PIN
    expect(mk).toHaveLength(48);
    const gen = await run('ykman', ['--device', '12345678', 'piv', 'keys', 'generate', '-a', 'ECCP256', '--pin-policy', 'NEVER', '--touch-policy', 'NEVER', '-P', NEW_PIN, '85', pub], { env: ctx.env });
    expect(gen.code, gen.stderr).toBe(0);
    const cert = await run('ykman', ['--device', '12345678', 'piv', 'certificates', 'generate', '-s', 'CN=foreign key', '-P', NEW_PIN, '85', pub], { env: ctx.env });
    expect(cert.code, cert.stderr).toBe(0);
    const list = await plugin(ctx, ['--list']);
    expect(list.stdout).not.toContain('foreign key');
    const all = await plugin(ctx, ['--list-all', '--json']);
    const foreign = JSON.parse(all.stdout).find((k: { slot: number }) => k.slot === 4);
    expect(foreign).toMatchObject({ name: 'CN=foreign key', ours: false, pinPolicy: 'never', touchPolicy: 'never' });
    const f = join(ctx.dir, 'foreign.age');
    await run('age', ['-r', foreign.recipient, '-o', f, join(ctx.dir, 'plain.txt')], { env: ctx.env });
    const idf = join(ctx.dir, 'foreign-id.txt');
    writeFileSync(idf, foreign.identity + '\n');
    const r = await run('age', ['-d', '-i', idf, f], { env: ctx.env, noTty: true });
    expect(r.stdout).toBe('the secret\n');
  });

  itWith([age, ykman, python])('a slot set up like the reference tool does (certificate from another builder) is listed as an age identity', async () => {
    const pub = join(ctx.dir, 'ref.pem');
    const cert = join(ctx.dir, 'ref-cert.pem');
    const gen = await run('ykman', ['--device', '12345678', 'piv', 'keys', 'generate', '-a', 'ECCP256', '--pin-policy', 'ONCE', '--touch-policy', 'ALWAYS', '-P', NEW_PIN, '86', pub], { env: ctx.env });
    expect(gen.code, gen.stderr).toBe(0);
    execFileSync('python3', [`${ROOT}test/helpers/reference_cert.py`, pub, 'made by the reference', '2', '2', cert]);
    const imp = await run('ykman', ['--device', '12345678', 'piv', 'certificates', 'import', '-P', NEW_PIN, '86', cert], { env: ctx.env });
    expect(imp.code, imp.stderr).toBe(0);
    const list = await plugin(ctx, ['--list', '--json']);
    const ref = JSON.parse(list.stdout).find((k: { slot: number }) => k.slot === 5);
    expect(ref).toMatchObject({ name: 'made by the reference', ours: true, pinPolicy: 'once', touchPolicy: 'always', created: '2023-01-28T08:22:29.000Z' });
    const text = await plugin(ctx, ['--identity', '--serial', '12345678', '--slot', '5']);
    expect(text.stdout).toContain('#      Created: Sat, 28 Jan 2023 08:22:29 +0000');
  });

  itWith([age, python])('stanzas from an independent (pyca/cryptography) implementation decrypt through the plugin', async () => {
    const pk = execFileSync('python3', ['-c', `import sys;from cryptography.hazmat.primitives.asymmetric import ec;print(ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes.fromhex(sys.argv[1])).public_bytes(__import__('cryptography.hazmat.primitives.serialization',fromlist=['x']).Encoding.X962, __import__('cryptography.hazmat.primitives.serialization',fromlist=['x']).PublicFormat.CompressedPoint).hex())`, Buffer.from((await import('@scure/base')).bech32.fromWords((await import('@scure/base')).bech32.decode(id.recipient as `${string}1${string}`, false).words)).toString('hex')]).toString().trim();
    const e = new Encrypter();
    e.addRecipient({
      wrapFileKey(fileKey: Uint8Array) {
        const [tag, epk, body] = execFileSync('python3', [`${ROOT}test/helpers/piv_p256.py`, 'wrap', pk, Buffer.from(fileKey).toString('hex')]).toString().trim().split(' ');
        return [new Stanza(['piv-p256', tag!, epk!], Buffer.from(body!, 'base64'))];
      },
    });
    const file = join(ctx.dir, 'python.age');
    writeFileSync(file, await e.encrypt('made elsewhere\n'));
    const r = await ageOnPty(ctx, ['-d', '-i', idFile, file], [[/Enter PIN/, NEW_PIN]]);
    expect(r.stdout).toContain('made elsewhere');
  });

  itWith([age, python])('files typage encrypts to the age1tag form (p256tag, no plugin) decrypt with the YubiKey identity through age', async () => {
    const json = JSON.parse((await plugin(ctx, ['--list', '--json', '--serial', '12345678'])).stdout);
    const tagRecipient = json.find((k: { slot: number }) => k.slot === 1).tagRecipient as string;
    expect(tagRecipient).toMatch(/^age1tag1/);
    const e = new Encrypter();
    e.addRecipient(tagRecipient);
    const file = join(ctx.dir, 'tag.age');
    writeFileSync(file, await e.encrypt('no plugin needed to encrypt\n'));
    expect(readFileSync(file, 'latin1')).toMatch(/^-> p256tag \S{6} \S{87}$/m);
    const r = await ageOnPty(ctx, ['-d', '-i', idFile, file], [[/Enter PIN/, NEW_PIN]]);
    expect(r.stdout).toContain('no plugin needed to encrypt');
  });

  itWith([])('in-process typage Recipient and Identity (no plugin process)', async () => {
    const e = new Encrypter();
    e.addRecipient(new YubiKeyRecipient(id.recipient));
    const ct = await e.encrypt('in process\n');
    const readers = await openPcsc();
    const prompts: string[] = [];
    const messages: string[] = [];
    try {
      const d = new Decrypter();
      d.addIdentity(new YubiKeyIdentity(id.identity, { readers, pin: async (p) => (prompts.push(p), NEW_PIN), message: (m) => messages.push(m) }));
      expect(await d.decrypt(ct, 'text')).toBe('in process\n');
    } finally {
      await readers.close();
    }
    expect(messages).toEqual(['Touch your YubiKey with serial 12345678']);
    expect(prompts.every((p) => p.includes('Enter PIN for YubiKey with serial 12345678'))).toBe(true);
  });

  itWith([age])('guided setup without arguments: numbered choices (answers from stdin without a terminal), identity file written', async () => {
    const r = await run(process.execPath, [PLUGIN], { input: `1\n\nsetup key\n3\n3\ny\n${NEW_PIN}\n`, env: ctx.env, cwd: ctx.dir, noTty: true });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('🔑 Select a YubiKey:');
    expect(r.stderr).toMatch(/\[2\] Slot 2 \(Empty\)/);
    expect(r.stderr).toMatch(/\[1\] Slot 1 \(ci key, created: /);
    expect(r.stderr).not.toContain(NEW_PIN);
    const file = /📝 Wrote the identity file (age-yubikey-identity-[0-9a-f]{8}\.txt)/.exec(r.stderr)![1]!;
    const text = readFileSync(join(ctx.dir, file), 'utf8');
    expect(text).toMatch(/^#       Serial: 12345678, Slot: 2\n#         Name: setup key\n/);
    expect(text).toContain('#   PIN policy: Never  (A PIN is NOT required to decrypt)');
    expect(statSync(join(ctx.dir, file)).mode & 0o777).toBe(0o600);
    const recipient = /#    Recipient: (age1yubikey1\w+)/.exec(text)![1]!;
    expect(r.stderr).toContain(`  ${recipient}`);
    const f = join(ctx.dir, 'setup.age');
    await run('age', ['-r', recipient, '-o', f, join(ctx.dir, 'plain.txt')], { env: ctx.env });
    const d = await run('age', ['-d', '-i', join(ctx.dir, file), f], { env: ctx.env, noTty: true });
    expect(d.stdout).toBe('the secret\n');
  });
});
