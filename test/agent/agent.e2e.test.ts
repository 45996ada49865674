/**
 * The agent end to end: pcscd + vpcd + the virtual YubiKey, the real `age` CLI on a pty running
 * our plugin, and `keybridge agent --daemon`. Separate `age -d` processes for a PIN-"always" slot
 * and for a PIN-"once" slot with 2 s pauses ask for the PIN once with the agent running, and as
 * before without it; lock, SIGHUP, expiry and card removal each make the next decryption ask
 * again; killing the agent in the middle of a decryption leaves the plugin to decrypt by itself;
 * the PIN is in none of the agent's argv, environment or log.
 */
import { afterAll, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Encrypter } from 'age-encryption';
import type { VirtualYubiKey } from '../../src/sim/yubikey/card.ts';
import { YubiKeyRecipient } from '../../src/plugins/yubikey/typage.ts';
import { decryptOnPty } from '../helpers/ageBatch.ts';
import { describeWithRig, type RigContext } from '../helpers/rig.ts';
import { DIST, keybridge, run } from '../helpers/run.ts';
import { findTool, itWith, REQUIRE_E2E } from '../helpers/tools.ts';
import { nativeUnavailableReason } from '../../src/agent/native.ts';

const age = findTool('age');
const python = findTool('python3');
const NEW_PIN = '471129';
/** 100 files for "always" (as the issue asks); "once" with 2 s pauses: 5 here, 100 in bench/agent.ts. */
const ALWAYS_FILES = 100;
const ONCE_FILES = 5;
const PAUSE_MS = 2000;
const nativeMissing = nativeUnavailableReason();
/** Tests that need the agent: without its addon they are skipped with the reason, or fail under KEYBRIDGE_REQUIRE_E2E=1. */
const itAgent: typeof it = nativeMissing
  ? (((name: string, fn?: () => unknown) =>
      REQUIRE_E2E
        ? it(name, () => {
            throw new Error(`KEYBRIDGE_REQUIRE_E2E=1 but ${nativeMissing}`);
          })
        : it.skip(`${name} [skipped: ${nativeMissing}]`, fn)) as unknown as typeof it)
  : itWith([age, python]);

async function generate(ctx: RigContext, yk: VirtualYubiKey, args: string[], pins: string) {
  const r = await run(process.execPath, [`${DIST}/age-plugin-yubikey.mjs`, '--generate', '--serial', String(yk.serial), ...args], { input: pins, env: ctx.env, noTty: true });
  expect(r.code, r.stderr).toBe(0);
  return { block: r.stdout, recipient: /#    Recipient: (age1yubikey1\w+)/.exec(r.stdout)![1]! };
}

async function waitFor(cond: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithRig('keybridge agent with age, pcscd and the virtual YubiKey', (ctx) => {
  let yk: VirtualYubiKey;
  let always: string;
  let once: string;
  const filesAlways: string[] = [];
  const filesOnce: string[] = [];
  let agentEnv: NodeJS.ProcessEnv;
  let sockDir: string;
  let agentPid = 0;

  // An agent a failed test left running is stopped with the file.
  afterAll(() => {
    if (agentPid) {
      try {
        process.kill(agentPid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
  });

  async function startAgent(extra: string[] = []): Promise<number> {
    const d = await keybridge(['agent', '--daemon', ...extra], { env: agentEnv });
    expect(d.code, d.stderr).toBe(0);
    agentPid = Number(/pid (\d+)/.exec(d.stdout)![1]);
    return agentPid;
  }
  async function stopAgent(): Promise<void> {
    if (!agentPid) return;
    await keybridge(['agent', 'stop'], { env: agentEnv });
    const pid = agentPid;
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    agentPid = 0;
  }
  async function status(): Promise<{ devices: { id: string; secrets: number }[] }> {
    const r = await keybridge(['agent', 'status', '--json'], { env: agentEnv });
    return JSON.parse(r.stdout);
  }
  /** Decrypts each file in its own `age -d`, pausing between them; returns the prompts per file. */
  async function batch(idFile: string, files: string[], env: NodeJS.ProcessEnv, pauseMs = 0): Promise<number[]> {
    const prompts: number[] = [];
    for (const [i, f] of files.entries()) {
      if (i > 0 && pauseMs) await sleep(pauseMs);
      const r = await decryptOnPty(env, idFile, f, NEW_PIN);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain(`secret ${/(once|always)-(\d+)\.age$/.exec(f)!.slice(1).join(' ')}`);
      expect(r.out).not.toContain(NEW_PIN);
      prompts.push(r.prompts);
    }
    return prompts;
  }

  itWith([age, python])('setup: a PIN-"once" and a PIN-"always" slot, files encrypted to each', async () => {
    yk = await ctx.yubikey({ serial: 13572468, statePath: join(ctx.dir, 'yk.json') });
    const a = await generate(ctx, yk, ['--slot', '1', '--name', 'once', '--pin-policy', 'once', '--touch-policy', 'never'], `123456\n12345678\n${NEW_PIN}\n${NEW_PIN}\n`);
    const b = await generate(ctx, yk, ['--slot', '2', '--name', 'always', '--pin-policy', 'always', '--touch-policy', 'never'], `${NEW_PIN}\n${NEW_PIN}\n`);
    once = join(ctx.dir, 'once.txt');
    always = join(ctx.dir, 'always.txt');
    writeFileSync(once, a.block);
    writeFileSync(always, b.block);
    const plain = join(ctx.dir, 'plain');
    mkdirSync(plain);
    for (const [kind, recipient, list, n] of [
      ['always', b.recipient, filesAlways, ALWAYS_FILES],
      ['once', a.recipient, filesOnce, ONCE_FILES],
    ] as const) {
      for (let i = 0; i < n; i++) {
        const p = join(plain, `${kind}-${i}.txt`);
        writeFileSync(p, `secret ${kind} ${i}\n`);
        const f = join(ctx.dir, `${kind}-${i}.age`);
        if (i === 0) {
          const enc = await run('age', ['-r', recipient, '-o', f, p], { env: ctx.env });
          expect(enc.code, enc.stderr).toBe(0);
        } else {
          // The rest in-process (the same piv-p256 stanza), to keep the setup short.
          const e = new Encrypter();
          e.addRecipient(new YubiKeyRecipient(recipient));
          writeFileSync(f, await e.encrypt(readFileSync(p)));
        }
        list.push(f);
      }
    }
    sockDir = join(ctx.dir, 'agent');
    agentEnv = { ...ctx.env, KEYBRIDGE_AGENT_SOCK: join(sockDir, 'agent.sock') };
  }, 120_000);

  itWith([age, python])('without an agent, as today: "always" asks for every file, "once" asks again after each 2 s pause', async () => {
    expect(await batch(always, filesAlways.slice(0, 3), agentEnv)).toEqual([1, 1, 1]);
    await sleep(PAUSE_MS); // the "always" decryption just verified the card's PIN
    expect(await batch(once, filesOnce.slice(0, 3), agentEnv, PAUSE_MS)).toEqual([1, 1, 1]);
  }, 120_000);

  itAgent(`with the agent: ${ALWAYS_FILES} separate age -d for the "always" slot ask once`, async () => {
    await startAgent();
    const prompts = await batch(always, filesAlways, agentEnv);
    expect(prompts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(prompts[0]).toBe(1);
    expect((await status()).devices).toMatchObject([{ id: 'yubikey:13572468', secrets: 1 }]);
  }, 300_000);

  itAgent(`with the agent: ${ONCE_FILES} age -d for the "once" slot, 2 s apart, ask once`, async () => {
    await keybridge(['agent', 'lock'], { env: agentEnv });
    const prompts = await batch(once, filesOnce, agentEnv, PAUSE_MS);
    expect(prompts).toEqual([1, ...Array(ONCE_FILES - 1).fill(0)]);
  }, 120_000);

  // The PIN belongs to the card, not the slot: once verified (for either slot) the card session
  // has it, and a PIN-"once" decryption after a PIN-"always" one asks nothing. So after each
  // forgetting, "once" goes first (the card was reset: asked), then "always" (asked: a PIN given
  // for a "once" slot is not kept), then "always" again (kept now: not asked).
  const afterForgetting = async () => {
    expect(await batch(once, filesOnce.slice(0, 1), agentEnv)).toEqual([1]);
    expect(await batch(always, filesAlways.slice(0, 2), agentEnv)).toEqual([1, 0]);
  };

  itAgent('lock and SIGHUP make the next decryption ask again', async () => {
    expect(await batch(always, filesAlways.slice(0, 2), agentEnv)).toEqual([1, 0]);
    await keybridge(['agent', 'lock'], { env: agentEnv });
    expect((await status()).devices).toEqual([]);
    await afterForgetting();
    process.kill(agentPid, 'SIGHUP');
    await waitFor(async () => (await status()).devices.length === 0);
    await afterForgetting();
  }, 120_000);

  itAgent('removing the card makes the agent forget it: the next decryption asks again', async () => {
    expect(await batch(always, filesAlways.slice(0, 1), agentEnv)).toEqual([0]);
    await yk.remove();
    await waitFor(async () => (await status()).devices.length === 0);
    await yk.insert();
    await ctx.rig.waitForCard(0, 'present');
    await afterForgetting();
  }, 120_000);

  itAgent('the idle timeout and the maximum lifetime each make the next decryption ask again', async () => {
    await stopAgent();
    await startAgent(['--idle-timeout', '3s']);
    expect(await batch(always, filesAlways.slice(0, 2), agentEnv)).toEqual([1, 0]);
    await waitFor(async () => (await status()).devices.length === 0, 10_000);
    await afterForgetting();
    await stopAgent();

    await startAgent(['--idle-timeout', '1h', '--max-lifetime', '3s']);
    const t0 = Date.now();
    expect(await batch(always, filesAlways.slice(0, 1), agentEnv)).toEqual([1]);
    // busy use does not extend the lifetime
    const prompts: number[] = [];
    while (Date.now() - t0 < 4500) prompts.push(...(await batch(always, filesAlways.slice(0, 1), agentEnv)));
    expect(prompts[0]).toBe(0);
    expect(prompts.reduce((a, b) => a + b, 0)).toBe(1);
  }, 120_000);

  itAgent('killing the agent in the middle of a decryption: the plugin decrypts by itself', async () => {
    await stopAgent();
    await startAgent();
    expect(await batch(always, filesAlways.slice(0, 1), agentEnv)).toEqual([1]);
    const b = await generate(ctx, yk, ['--slot', '3', '--name', 'touch', '--pin-policy', 'always', '--touch-policy', 'always'], `${NEW_PIN}\n`);
    // The card holds the agent in its ECDH for 4 s; the agent is killed meanwhile.
    yk.setTouch({ timeoutMs: 4000 });
    const idFile = join(ctx.dir, 'touch.txt');
    writeFileSync(idFile, b.block);
    const f = join(ctx.dir, 'touch.age');
    await run('age', ['-r', b.recipient, '-o', f, join(ctx.dir, 'plain', 'always-0.txt')], { env: ctx.env });
    const touches = yk.touchRequests;
    // The PIN is typed twice: for the agent, then for the plugin decrypting by itself.
    const pending = decryptOnPty(agentEnv, idFile, f, NEW_PIN, 40, 2);
    await waitFor(() => yk.touchRequests > touches, 20_000);
    process.kill(agentPid, 'SIGKILL');
    agentPid = 0;
    yk.setTouch('approve');
    const r = await pending;
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('secret always 0');
    expect(r.out).toContain('Touch your YubiKey with serial 13572468');
    expect(r.prompts).toBe(2);
  }, 120_000);

  itAgent("the PIN is in none of the agent's argv, environment or log", async () => {
    if (!agentPid) await startAgent();
    expect(await batch(always, filesAlways.slice(0, 1), agentEnv)).toEqual([1]);
    for (const what of ['cmdline', 'environ']) expect(readFileSync(`/proc/${agentPid}/${what}`, 'latin1')).not.toContain(NEW_PIN);
    const log = readFileSync(join(sockDir, 'agent.log'), 'utf8');
    expect(log).toMatch(/unwrap yubikey for pid \d+: 1 file\(s\), 1 file key\(s\), 0 error\(s\)/);
    expect(log).not.toContain(NEW_PIN);
    await stopAgent();
    expect(existsSync(join(sockDir, 'agent.sock'))).toBe(false);
  }, 60_000);

  itWith([age])('headless (CI): the PIN from a 0600 KEYBRIDGE_PIN_FILE or from KEYBRIDGE_PIN_FD, through age with no terminal; a wider mode is refused', async () => {
    const pinFile = join(ctx.dir, 'pin');
    writeFileSync(pinFile, `${NEW_PIN}\n`, { mode: 0o600 });
    const noAgent = { ...ctx.env, KEYBRIDGE_AGENT_SOCK: join(ctx.dir, 'no-agent', 'agent.sock') };
    const viaFile = await run('age', ['-d', '-i', always, filesAlways[1]!], { env: { ...noAgent, KEYBRIDGE_PIN_FILE: pinFile }, noTty: true });
    expect(viaFile.code, viaFile.stderr).toBe(0);
    expect(viaFile.stdout).toBe('secret always 1\n');
    expect(viaFile.stderr).not.toContain(NEW_PIN);
    // a pipe on fd 3 of age reaches the plugin it starts
    const viaFd = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const c = spawn('age', ['-d', '-i', always, filesAlways[2]!], { env: { ...noAgent, KEYBRIDGE_PIN_FD: '3' }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: true });
      (c.stdio[3] as NodeJS.WritableStream).end(`${NEW_PIN}\n`);
      let out = '';
      let err = '';
      c.stdout!.on('data', (d) => (out += d));
      c.stderr!.on('data', (d) => (err += d));
      c.on('close', (code) => resolve({ code, out, err }));
    });
    expect(viaFd.code, viaFd.err).toBe(0);
    expect(viaFd.out).toBe('secret always 2\n');
    chmodSync(pinFile, 0o644);
    const wide = await run('age', ['-d', '-i', always, filesAlways[1]!], { env: { ...noAgent, KEYBRIDGE_PIN_FILE: pinFile }, noTty: true });
    expect(wide.code).not.toBe(0);
    expect(wide.stderr).toContain(`KEYBRIDGE_PIN_FILE: ${pinFile} has mode 0644; it must be readable by you only (chmod 600 ${pinFile})`);
    expect(wide.stderr).not.toContain(NEW_PIN);
  }, 60_000);
});
