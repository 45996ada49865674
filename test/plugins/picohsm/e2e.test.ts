/**
 * age-plugin-picohsm end to end: the real `age` CLI (Debian 1.1.1) runs our plugin from PATH,
 * which talks PC/SC to pcscd, vpcd and the virtual Pico HSM. PINs are typed into a pty.
 */
import { expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decrypter, Encrypter } from 'age-encryption';
import { PicoHsmIdentity, PicoHsmRecipient } from '../../../src/plugins/picohsm/typage.ts';
import { encodeIdentity } from '../../../src/plugins/picohsm/identity.ts';
import { openPcsc } from '../../../src/transport/pcsc.ts';
import { startVirtualPicoHsm, type VirtualPicoHsm } from '../../../src/sim/picohsm/card.ts';
import { ageOnPty as agePty } from '../../helpers/agePty.ts';
import { describeWithRig, type RigContext } from '../../helpers/rig.ts';
import { DIST, run } from '../../helpers/run.ts';
import { findTool, itWith } from '../../helpers/tools.ts';

const age = findTool('age');
const python = findTool('python3');
const pkcs11Tool = findTool('pkcs11-tool');
const PLUGIN = `${DIST}/age-plugin-picohsm.mjs`;
const MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const PIN = '24681357';
const SO_PIN = '3537363231383830';

function plugin(ctx: RigContext, args: string[], input = '', extraEnv: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, [PLUGIN, ...args], { input, env: { ...ctx.env, ...extraEnv }, noTty: true, timeoutMs: 30000 });
}

/** `age` on a pty with the rig's environment (plugins on PATH). */
function ageOnPty(ctx: RigContext, args: string[], answers: [RegExp, string][] = [], extraEnv: NodeJS.ProcessEnv = {}, timeout = 30) {
  return agePty({ ...ctx.env, ...extraEnv }, args, answers, timeout);
}

interface Generated {
  block: string;
  recipient: string;
  identity: string;
  file: string;
}

describeWithRig('age-plugin-picohsm with the real age CLI', (ctx) => {
  let hsm: VirtualPicoHsm;
  let x: Generated;
  let p: Generated;
  let plain: string;
  const statePath = () => join(ctx.dir, 'hsm.json');

  /** Unplugs and replugs the device: a fresh session, the PIN no longer verified. */
  async function replug(): Promise<void> {
    await hsm.remove();
    await ctx.unplugged(0);
    hsm = await ctx.plug((port) => startVirtualPicoHsm({ port, statePath: statePath() }));
  }

  async function generate(label: string, keyType: 'p256' | 'x25519'): Promise<Generated> {
    const r = await plugin(ctx, ['--generate', '--label', label, '--key-type', keyType], `${PIN}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(PIN);
    const recipient = /^#    Recipient: (age1\S+)$/m.exec(r.stdout)![1]!;
    const identity = /^(AGE-PLUGIN-PICOHSM-1\w+)$/m.exec(r.stdout)![1]!;
    const file = join(ctx.dir, `${label}.txt`);
    writeFileSync(file, r.stdout);
    return { block: r.stdout, recipient, identity, file };
  }

  itWith([age, python])('--generate --key-type x25519: stock age encrypts to the plain age1 recipient, age -d decrypts through the plugin (PIN on the terminal)', async () => {
    hsm = await ctx.plug((port) => startVirtualPicoHsm({ port, serial: 'ESPH1000001', statePath: statePath(), initialise: { pin: PIN, soPin: SO_PIN } }));
    x = await generate('ci-x', 'x25519');
    expect(x.block).toMatch(/^#       Serial: ESPH1000001, Key: 1\n#        Label: ci-x\n#     Key type: X25519\n#      Created: .+\n#    Recipient: age1[02-9ac-hj-np-z]{58}\nAGE-PLUGIN-PICOHSM-1\w+\n$/);
    plain = join(ctx.dir, 'plain.txt');
    writeFileSync(plain, 'the secret\n');
    const enc = join(ctx.dir, 'x.age');
    // Stock age, no plugin involved: the recipient is a native X25519 one.
    const e = await run('age', ['-r', x.recipient, '-o', enc, plain], { env: { PATH: '/usr/bin:/bin' } });
    expect(e.code, e.stderr).toBe(0);
    expect(readFileSync(enc, 'latin1')).toMatch(/^-> X25519 \S{43}$/m);
    const d = await ageOnPty(ctx, ['-d', '-i', x.file, enc], [[/Enter PIN for Pico HSM with key "ci-x"/, PIN]]);
    expect(d.code, d.stdout).toBe(0);
    expect(d.stdout).toContain('the secret');
    expect(d.stdout).not.toContain(PIN);
  });

  itWith([age, python])('--generate (P-256, as pinpox): age1picohsm1 through recipient-v1 writes a picohsm stanza that decrypts', async () => {
    p = await generate('ci-p', 'p256');
    expect(p.block).toMatch(/#     Key type: P-256\n#      Created: .+\n#    Recipient: age1picohsm1\w{110}\n#          Tag: age1tag1\w{59}\n#  Fingerprint: ([0-9a-f]{2}:){7}[0-9a-f]{2}\n/);
    const enc = join(ctx.dir, 'p.age');
    const e = await run('age', ['-r', p.recipient, '-o', enc, plain], { env: ctx.env, noTty: true });
    expect(e.code, e.stderr).toBe(0);
    expect(readFileSync(enc, 'latin1')).toMatch(/^-> picohsm \S{87} \S{11}$/m);
    // pcscd powers an idle card off between processes, so the device asks again.
    const d = await ageOnPty(ctx, ['-d', '-i', p.file, enc], [[/Enter PIN for Pico HSM with key "ci-p"/, PIN]]);
    expect(d.code, d.stdout).toBe(0);
    expect(d.stdout).toContain('the secret');
  });

  itWith([age])('--list, --list-all, --json and --convert agree', async () => {
    const list = await plugin(ctx, ['--list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(`${x.recipient}\n`);
    expect(list.stdout).toContain(`${p.recipient}\n`);
    const json = JSON.parse((await plugin(ctx, ['--list', '--json'])).stdout);
    expect(json).toMatchObject([
      { serial: 'ESPH1000001', keyId: 1, label: 'ci-x', keyType: 'x25519', ours: true, recipient: x.recipient, identity: x.identity },
      { serial: 'ESPH1000001', keyId: 2, label: 'ci-p', keyType: 'p256', ours: true, recipient: p.recipient, identity: p.identity, tagRecipient: expect.stringMatching(/^age1tag1/) },
    ]);
    const conv = await plugin(ctx, ['--convert', p.identity]);
    expect(conv.stdout, conv.stderr).toBe(`${p.recipient}\n`);
    const convFile = await plugin(ctx, ['-convert', x.file]);
    expect(convFile.stdout).toBe(`${x.recipient}\n`);
    const v = await plugin(ctx, ['--version']);
    expect(v.stdout).toMatch(/^age-plugin-picohsm 0\.1\.0 \(keybridge \d+\.\d+\.\d+\)\n$/);
    const mod = await plugin(ctx, ['--list', '--module', '/usr/lib/opensc-pkcs11.so']);
    expect(mod.stderr).toContain('--module is accepted for compatibility and not used');
  });

  itWith([age, python])('files typage encrypts to the age1tag form (p256tag, no plugin) decrypt with the P-256 identity', async () => {
    const tag = JSON.parse((await plugin(ctx, ['--list', '--json'])).stdout)[1].tagRecipient as string;
    const e = new Encrypter();
    e.addRecipient(tag);
    const file = join(ctx.dir, 'tag.age');
    writeFileSync(file, await e.encrypt('no plugin needed to encrypt\n'));
    expect(readFileSync(file, 'latin1')).toMatch(/^-> p256tag \S{6} \S{87}$/m);
    const r = await ageOnPty(ctx, ['-d', '-i', p.file, file], [[/Enter PIN/, PIN]]);
    expect(r.stdout).toContain('no plugin needed to encrypt');
  });

  itWith([age, python])('a wrong PIN shows the retries left; the last try is never spent; a blocked PIN names the unblock command', async () => {
    await replug();
    const enc = join(ctx.dir, 'x.age');
    const ok = await ageOnPty(ctx, ['-d', '-i', x.file, enc], [
      [/Enter PIN/, '000000'],
      [/Invalid PIN \(2 tries remaining before it is blocked\)\. Enter PIN/, PIN],
    ]);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toContain('the secret');
    expect(hsm.store.state.pinRetriesLeft).toBe(3);
    await replug();
    const refused = await ageOnPty(ctx, ['-d', '-i', x.file, enc], [
      [/Enter PIN/, '000000'],
      [/2 tries remaining/, '111111'],
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toContain('Only 1 PIN try is left on Pico HSM with key "ci-x"; keybridge will not risk blocking it.');
    expect(hsm.store.state.pinRetriesLeft).toBe(1);
    // Spend the last try elsewhere (as a careless tool would): the PIN is blocked.
    const blockedBy = await run('pkcs11-tool', ['--module', MODULE, '--login', '--pin', '000000', '-O'], { env: ctx.env });
    expect(blockedBy.stderr).toMatch(/CKR_PIN_(INCORRECT|LOCKED)/);
    const blocked = await ageOnPty(ctx, ['-d', '-i', x.file, enc]);
    expect(blocked.code).not.toBe(0);
    expect(blocked.stdout).toContain('is blocked. Unblock it with the SO-PIN: `pkcs11-tool --module opensc-pkcs11.so --login --login-type so --init-pin`');
    expect(blocked.stdout).not.toContain('Enter PIN');
    const unblock = await run('pkcs11-tool', ['--module', MODULE, '--login', '--login-type', 'so', '--so-pin', SO_PIN, '--init-pin', '--new-pin', PIN], { env: ctx.env });
    expect(unblock.code, unblock.stderr).toBe(0);
  }, 60_000);

  itWith([age, python])('the press-to-confirm button: a message before the ECDH; refused or timed out: its own error', async () => {
    await replug();
    hsm.setButton('approve');
    const enc = join(ctx.dir, 'x.age');
    const ok = await ageOnPty(ctx, ['-d', '-i', x.file, enc], [[/Enter PIN/, PIN]]);
    expect(ok.stdout).toContain('Press the button on Pico HSM with key "ci-x" to confirm');
    expect(ok.stdout).toContain('the secret');
    hsm.setButton('deny');
    const denied = await ageOnPty(ctx, ['-d', '-i', x.file, enc], [[/Enter PIN/, PIN]]);
    expect(denied.code).not.toBe(0);
    expect(denied.stdout).toContain('was not pressed in time (or the operation was refused)');
    hsm.setButton({ timeoutMs: 300 });
    const late = await ageOnPty(ctx, ['-d', '-i', x.file, enc], [[/Enter PIN/, PIN]]);
    expect(late.code).not.toBe(0);
    expect(late.stdout).toContain('was not pressed in time');
    hsm.setButton('off');
  });

  itWith([age, python])('the Pico HSM pulled out in the middle of a decryption', async () => {
    hsm.setButton({ timeoutMs: 4000 });
    const presses = hsm.buttonRequests;
    const pending = ageOnPty(ctx, ['-d', '-i', x.file, join(ctx.dir, 'x.age')], [[/Enter PIN/, PIN]]);
    // Pulled out while the plugin waits for the button (the decryption is under way).
    const deadline = Date.now() + 30_000;
    while (hsm.buttonRequests === presses && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await hsm.remove();
    const r = await pending;
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/was removed during the operation|was not pressed in time/);
    await ctx.unplugged(0);
    hsm = await ctx.plug((port) => startVirtualPicoHsm({ port, statePath: statePath() }));
  });

  itWith([age, python])('an absent Pico HSM: asked for (skip), skipped by the environment, or an error without a terminal', async () => {
    await hsm.remove();
    await ctx.unplugged(0);
    const enc = join(ctx.dir, 'p.age');
    const asked = await ageOnPty(ctx, ['-d', '-i', p.file, enc], [[/Please plug in Pico HSM with key "ci-p"/, '2']]);
    expect(asked.code).not.toBe(0);
    expect(asked.stdout).toMatch(/no identity matched/);
    const skipped = await ageOnPty(ctx, ['-d', '-i', p.file, enc], [], { AGE_PLUGIN_PICOHSM_SKIP_NOT_FOUND: '1' });
    expect(skipped.stdout).not.toContain('Please plug in');
    expect(skipped.stdout).toMatch(/no identity matched/);
    const noTty = await run('age', ['-d', '-i', p.file, enc], { env: ctx.env, noTty: true });
    expect(noTty.code).not.toBe(0);
    expect(noTty.stderr).toContain('is not plugged in and there is no terminal to ask for it');
    // Plugged in while the plugin waits: "plugged in" after inserting it. A spare device in the
    // other slot shows when the plugin has looked (and is about to ask).
    const spare = await ctx.plug((port) => startVirtualPicoHsm({ port, serial: 'ESPH4000004' }), 1);
    const seen = spare.apduCount;
    const pending = ageOnPty(ctx, ['-d', '-i', p.file, enc], [
      [/Please plug in Pico HSM/, '1'],
      [/Enter PIN/, PIN],
    ]);
    const deadline = Date.now() + 20_000;
    while (spare.apduCount === seen && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    hsm = await ctx.plug((port) => startVirtualPicoHsm({ port, statePath: statePath() }));
    const r = await pending;
    expect(r.stdout).toContain('Please plug in Pico HSM with key "ci-p"');
    expect(r.stdout).toContain('the secret');
    await spare.remove();
    await ctx.unplugged(1);
  }, 60_000);

  itWith([age, python])('two Pico HSMs: each identity finds its own device; the other is not asked for a PIN', async () => {
    const other = await ctx.plug((port) => startVirtualPicoHsm({ port, serial: 'ESPH2000002', statePath: join(ctx.dir, 'hsm2.json'), initialise: { pin: '97531246', soPin: SO_PIN } }), 1);
    const g = await plugin(ctx, ['--generate', '--label', 'second', '--serial', 'ESPH2000002'], '97531246\n');
    expect(g.code, g.stderr).toBe(0);
    const second = /^#    Recipient: (age1picohsm1\S+)$/m.exec(g.stdout)![1]!;
    const both = join(ctx.dir, 'both.txt');
    writeFileSync(both, p.block + g.stdout);
    const enc = join(ctx.dir, 'second.age');
    expect((await run('age', ['-r', second, '-o', enc, plain], { env: ctx.env, noTty: true })).code).toBe(0);
    const retriesFirst = hsm.store.state.pinRetriesLeft;
    // The first identity's device reads its key's fingerprint (no PIN): not this stanza's.
    const d = await ageOnPty(ctx, ['-d', '-i', both, enc], [[/Enter PIN for Pico HSM with key "second"/, '97531246']]);
    expect(d.code, d.stdout).toBe(0);
    expect(d.stdout).toContain('the secret');
    expect(d.stdout).not.toContain('Enter PIN for Pico HSM with key "ci-p"');
    expect(hsm.store.state.pinRetriesLeft).toBe(retriesFirst);
    const ambiguous = await plugin(ctx, ['--generate', '--label', 'z'], `${PIN}\n`);
    expect(ambiguous.stderr).toContain('Several Pico HSMs are plugged in. Use --serial to choose one.');
    await other.remove();
    await ctx.unplugged(1);
  });

  itWith([age, python, pkcs11Tool])('a key pkcs11-tool generated (--list-all) decrypts a file; a pinpox identity (slot 0) finds it on any device', async () => {
    const gen = await run('pkcs11-tool', ['--module', MODULE, '--login', '--pin', PIN, '--keypairgen', '--key-type', 'EC:prime256v1', '--id', 'a1b2c3d4', '--label', 'age-key'], { env: ctx.env });
    expect(gen.code, gen.stderr).toBe(0);
    expect((await plugin(ctx, ['--list', '--json'])).stdout).not.toContain('age-key');
    const all = JSON.parse((await plugin(ctx, ['--list-all', '--json'])).stdout) as { label: string; ours: boolean; recipient: string; identity: string }[];
    const foreign = all.find((k) => k.label === 'age-key')!;
    expect(foreign).toMatchObject({ ours: false, recipient: expect.stringMatching(/^age1picohsm1/) });
    const enc = join(ctx.dir, 'foreign.age');
    expect((await run('age', ['-r', foreign.recipient, '-o', enc, plain], { env: ctx.env, noTty: true })).code).toBe(0);
    const ours = join(ctx.dir, 'foreign-id.txt');
    writeFileSync(ours, foreign.identity + '\n');
    const d1 = await ageOnPty(ctx, ['-d', '-i', ours, enc], [[/Enter PIN/, PIN]]);
    expect(d1.stdout).toContain('the secret');
    // The identity pinpox's plugin prints for this key: slot 0, the CKA_ID and the label.
    const pinpox = encodeIdentity({ slot: 0, keyId: Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4), label: 'age-key' });
    expect(pinpox).toBe('AGE-PLUGIN-PICOHSM-1QQQQQQQY5XEV84RPVAJJ66M90YWV7QCZ');
    const pf = join(ctx.dir, 'pinpox-id.txt');
    writeFileSync(pf, pinpox + '\n');
    const d2 = await ageOnPty(ctx, ['-d', '-i', pf, enc], [[/Enter PIN/, PIN]]);
    expect(d2.stdout).toContain('the secret');
  });

  itWith([])('in-process typage Recipient and Identity (no plugin process)', async () => {
    const e = new Encrypter();
    e.addRecipient(new PicoHsmRecipient(p.recipient));
    const ct = await e.encrypt('in process\n');
    const readers = await openPcsc();
    const prompts: string[] = [];
    try {
      const d = new Decrypter();
      d.addIdentity(new PicoHsmIdentity(p.identity, { readers, pin: async (q) => (prompts.push(q), PIN) }));
      expect(await d.decrypt(ct, 'text')).toBe('in process\n');
    } finally {
      await readers.close();
    }
    expect(prompts.every((q) => q.includes('Enter PIN for Pico HSM with key "ci-p"'))).toBe(true);
  });

  itWith([age, python])('an uninitialised Pico HSM: one clear message with the command that initialises it', async () => {
    await hsm.remove();
    await ctx.unplugged(0);
    const fresh = await ctx.plug((port) => startVirtualPicoHsm({ port, serial: 'ESPH3000003', initialise: false }));
    const g = await plugin(ctx, ['--generate', '--label', 'y'], `${PIN}\n`);
    expect(g.code).toBe(1);
    expect(g.stderr).toContain('is not initialised (it has no PIN and no keys yet). Initialise it once, choosing its SO-PIN and PIN: `sc-hsm-tool --initialize --so-pin <16 hex digits> --pin <6-16 characters>`');
    const d = await ageOnPty(ctx, ['-d', '-i', p.file, join(ctx.dir, 'p.age')]);
    expect(d.code).not.toBe(0);
    expect(d.stdout).toContain('is not initialised');
    expect(fresh.store.state.initialized).toBe(false);
  });
});
