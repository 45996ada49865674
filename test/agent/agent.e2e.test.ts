/**
 * The agent end to end, per token family (a table: the virtual YubiKey and the virtual Pico HSM,
 * each through pcscd + vpcd in its own rig, and the virtual FIDO2 authenticator over TCP for
 * fido2-hmac and fido2prf): the real `age` CLI on a pty running our plugin, and
 * `keybridge agent --daemon`. 100 separate `age -d` processes ask for the PIN once with the agent
 * running (for the YubiKey a PIN-"always" slot; for the Pico HSM, whose PIN is verified per card
 * session, back to back), and so do a few with 2 s pauses between them (the YubiKey's PIN-"once"
 * slot, the Pico HSM), while without the agent each paused file asks again; lock, SIGHUP, expiry
 * and card removal each make the next decryption ask again; an agent that is alive but does not
 * answer (SIGSTOP) costs a short timeout and the plugin decrypts by itself; killing the agent in
 * the middle of a decryption (held in a touch or a button press) leaves the plugin to decrypt by
 * itself, asking the PIN again; a wrong PIN relayed through the agent is asked again with the
 * tries left and the right one kept; neither PIN is in the transcript or the agent's argv,
 * environment or log.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Encrypter, type Recipient } from 'age-encryption';
import type { VirtualYubiKey } from '../../src/sim/yubikey/card.ts';
import { startVirtualPicoHsm } from '../../src/sim/picohsm/card.ts';
import { YubiKeyRecipient } from '../../src/plugins/yubikey/typage.ts';
import { PicoHsmRecipient } from '../../src/plugins/picohsm/typage.ts';
import { decryptOnPty, PIN_PROMPT } from '../helpers/ageBatch.ts';
import { ageOnPty } from '../helpers/agePty.ts';
import { describeWithRig, type RigContext } from '../helpers/rig.ts';
import { pluginPath } from '../helpers/ageCli.ts';
import { startVirtualFido2, type VirtualFido2 } from '../../src/sim/fido2/server.ts';
import { CtapHidDevice } from '../../src/transport/ctaphid.ts';
import { Ctap2Session } from '../../src/tokens/ctap2/session.ts';
import { AuthenticatorSet } from '../../src/tokens/ctap2/authenticators.ts';
import { fido2DeviceSource } from '../../src/transport/fido2Devices.ts';
import { Fido2PrfIdentity } from '../../src/plugins/fido2prf/typage.ts';
import { DIST, keybridge, run } from '../helpers/run.ts';
import { findTool, itWith, REQUIRE_E2E } from '../helpers/tools.ts';
import { nativeUnavailableReason } from '../../src/agent/native.ts';

const age = findTool('age');
const python = findTool('python3');
const NEW_PIN = '471129';
const WRONG_PIN = '902817';
const MANY = 100;
const PAUSED = 5;
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

async function waitFor(cond: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Identity file and files encrypted to it, named `<kind>-<i>.age` with plaintext `secret <kind> <i>`. */
interface Key {
  kind: string;
  idFile: string;
  files: string[];
}

/** A batch the agent must serve with one PIN prompt, and how it goes without the agent. */
interface BatchSpec {
  key: Key;
  files: number;
  pauseMs: number;
  /** Without an agent: prompts for the first 3 files with these pauses (as today). */
  withoutAgent?: { pauseMs: number; prompts: number[] };
}

interface FamilySetup {
  /** The agent's device id (`yubikey:13572468`). */
  deviceId: string;
  /** What the plugins and the agent need in their environment to reach the token (FIDO2 over TCP). */
  env?: NodeJS.ProcessEnv;
  /** Texts the plugin shows on every decryption, relayed from the agent (a touch message). */
  shown?: string[];
  batches: BatchSpec[];
  /** Decrypted right after the agent forgot the device (asks once) and then again (does not). */
  afterForgetting(): Promise<void>;
  /** A key whose every decryption needs the PIN unless someone holds it (for the hung-agent test). */
  main: Key;
  remove(): Promise<void>;
  insert(): Promise<void>;
  /** Holds the agent inside the card operation (a touch or button press that takes a while); returns the release and how to decrypt then. */
  holdInOperation(): Promise<{ key: Key; file: string; waitHeld(): Promise<void>; release(): void; texts: string[]; prompts: readonly number[] }>;
}

interface FamilyCase {
  name: 'yubikey' | 'picohsm' | 'fido2-hmac' | 'fido2prf';
  title: string;
  /** A PC/SC token (pcscd + vpcd, the machine-wide rig) rather than one reached over TCP. */
  pcsc: boolean;
  setup(ctx: RigContext, batch: Batch): Promise<FamilySetup>;
}

type Batch = (key: Key, files: string[], pauseMs?: number) => Promise<number[]>;

/**
 * Writes `n` files for `kind`: the first through the real `age -e` (to the recipient `to`, or with
 * `-i` for a symmetric identity, the PIN on a pty), the rest in-process (to `recipient`, by default `to`).
 */
async function encryptFiles(ctx: RigContext, kind: string, to: string | { identity: string }, n: number, recipient: Recipient | string = to as string): Promise<string[]> {
  const plain = join(ctx.dir, 'plain');
  mkdirSync(plain, { recursive: true });
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = join(plain, `${kind}-${i}.txt`);
    writeFileSync(p, `secret ${kind} ${i}\n`);
    const f = join(ctx.dir, `${kind}-${i}.age`);
    if (i === 0) {
      const enc =
        typeof to === 'string'
          ? await run('age', ['-r', to, '-o', f, p], { env: ctx.env, noTty: true })
          : await ageOnPty(ctx.env, ['-e', '-i', to.identity, '-o', f, p], [[PIN_PROMPT, NEW_PIN]]);
      expect(enc.code, enc.stdout + enc.stderr).toBe(0);
    } else {
      const e = new Encrypter();
      e.addRecipient(recipient);
      writeFileSync(f, await e.encrypt(readFileSync(p)));
    }
    out.push(f);
  }
  return out;
}

const YUBIKEY: FamilyCase = {
  name: 'yubikey',
  title: 'pcscd and the virtual YubiKey',
  pcsc: true,
  async setup(ctx, batch) {
    const yk: VirtualYubiKey = await ctx.yubikey({ serial: 13572468, statePath: join(ctx.dir, 'yk.json') });
    const generate = async (args: string[], pins: string) => {
      const r = await run(process.execPath, [`${DIST}/age-plugin-yubikey.mjs`, '--generate', '--serial', String(yk.serial), ...args], { input: pins, env: ctx.env, noTty: true });
      expect(r.code, r.stderr).toBe(0);
      return { block: r.stdout, recipient: /#    Recipient: (age1yubikey1\w+)/.exec(r.stdout)![1]! };
    };
    const key = async (kind: string, slot: string, policy: string, touch: string, pins: string, n: number): Promise<Key> => {
      const g = await generate(['--slot', slot, '--name', kind, '--pin-policy', policy, '--touch-policy', touch], pins);
      const idFile = join(ctx.dir, `${kind}.txt`);
      writeFileSync(idFile, g.block);
      return { kind, idFile, files: await encryptFiles(ctx, kind, g.recipient, n, new YubiKeyRecipient(g.recipient)) };
    };
    const once = await key('once', '1', 'once', 'never', `123456\n12345678\n${NEW_PIN}\n${NEW_PIN}\n`, PAUSED);
    const always = await key('always', '2', 'always', 'never', `${NEW_PIN}\n${NEW_PIN}\n`, MANY);
    return {
      deviceId: `yubikey:${yk.serial}`,
      batches: [
        { key: always, files: MANY, pauseMs: 0, withoutAgent: { pauseMs: 0, prompts: [1, 1, 1] } },
        { key: once, files: PAUSED, pauseMs: PAUSE_MS, withoutAgent: { pauseMs: PAUSE_MS, prompts: [1, 1, 1] } },
      ],
      // The PIN belongs to the card, not the slot: once verified (for either slot) the card session
      // has it, and a PIN-"once" decryption after a PIN-"always" one asks nothing. So after each
      // forgetting, "once" goes first (the card was reset: asked), then "always" (asked: a PIN given
      // for a "once" slot is not kept), then "always" again (kept now: not asked).
      async afterForgetting() {
        expect(await batch(once, once.files.slice(0, 1))).toEqual([1]);
        expect(await batch(always, always.files.slice(0, 2))).toEqual([1, 0]);
      },
      main: always,
      remove: () => yk.remove(),
      async insert() {
        await yk.insert();
        await ctx.rig.waitForCard(0, 'present');
      },
      // The card holds the agent in its ECDH for 4 s (a touch not yet given).
      async holdInOperation() {
        const touch = await key('touch', '3', 'always', 'always', `${NEW_PIN}\n`, 1);
        yk.setTouch({ timeoutMs: 4000 });
        const touches = yk.touchRequests;
        return {
          key: touch,
          file: touch.files[0]!,
          waitHeld: () => waitFor(() => yk.touchRequests > touches, 20_000),
          release: () => yk.setTouch('approve'),
          texts: [`Touch your YubiKey with serial ${yk.serial}`],
          // typed twice: for the agent, then for the plugin decrypting by itself ("always")
          prompts: [2],
        };
      },
    };
  },
};

const PICOHSM: FamilyCase = {
  name: 'picohsm',
  title: 'pcscd and the virtual Pico HSM',
  pcsc: true,
  async setup(ctx, batch) {
    const hsm = await ctx.plug((port) => startVirtualPicoHsm({ port, serial: 'ESPH2000001', statePath: join(ctx.dir, 'hsm.json'), initialise: { pin: NEW_PIN, soPin: '3537363231383830' } }));
    const r = await run(process.execPath, [`${DIST}/age-plugin-picohsm.mjs`, '--generate', '--label', 'agent', '--key-type', 'p256'], { input: `${NEW_PIN}\n`, env: ctx.env, noTty: true });
    expect(r.code, r.stderr).toBe(0);
    const recipient = /^#    Recipient: (age1picohsm1\w+)$/m.exec(r.stdout)![1]!;
    const idFile = join(ctx.dir, 'pico.txt');
    writeFileSync(idFile, r.stdout);
    const pico: Key = { kind: 'pico', idFile, files: await encryptFiles(ctx, 'pico', recipient, MANY, new PicoHsmRecipient(recipient)) };
    const listed = JSON.parse((await run(process.execPath, [`${DIST}/age-plugin-picohsm.mjs`, '--list', '--json'], { env: ctx.env, noTty: true })).stdout);
    expect(listed).toMatchObject([{ serial: 'ESPH2000001', label: 'agent' }]);
    return {
      deviceId: await agentDeviceId(idFile),
      batches: [
        // The PIN is verified per card session: without the agent pcscd powers the idle card down
        // between processes 2 s apart, and the next one asks again.
        { key: pico, files: MANY, pauseMs: 0 },
        { key: pico, files: PAUSED, pauseMs: PAUSE_MS, withoutAgent: { pauseMs: PAUSE_MS, prompts: [1, 1, 1] } },
      ],
      async afterForgetting() {
        expect(await batch(pico, pico.files.slice(0, 2))).toEqual([1, 0]);
      },
      main: pico,
      async remove() {
        await hsm.remove();
        await ctx.unplugged(0);
      },
      async insert() {
        await hsm.insert();
        await ctx.rig.waitForCard(0, 'present');
      },
      // The press-to-confirm button holds the agent in the ECDH for 4 s (not pressed yet).
      async holdInOperation() {
        hsm.setButton({ timeoutMs: 4000 });
        const presses = hsm.buttonRequests;
        return {
          key: pico,
          file: pico.files[MANY - 1]!,
          waitHeld: () => waitFor(() => hsm.buttonRequests > presses, 20_000),
          release: () => hsm.setButton('approve'),
          texts: ['Press the button on Pico HSM with key "agent" to confirm'],
          // typed for the agent, then for the plugin decrypting by itself unless the card still
          // has the PIN the dead agent verified (pcscd may not have reset it yet when the plugin connects)
          prompts: [1, 2],
        };
      },
    };
  },
};

/**
 * A FIDO2 family on the virtual authenticator over TCP, a key with its PIN set: `credential`
 * makes the identity and the files (through the plugin's own generator and the real `age -e`).
 */
function fido2Case(name: 'fido2-hmac' | 'fido2prf', touchText: (key: string) => string, credential: (ctx: RigContext, env: NodeJS.ProcessEnv, v: VirtualFido2) => Promise<Key>): FamilyCase {
  return {
    name,
    title: `the virtual FIDO2 authenticator over TCP (${name})`,
    pcsc: false,
    async setup(ctx, batch) {
      const statePath = join(ctx.dir, `${name}.json`);
      let v: VirtualFido2 = await startVirtualFido2({ port: 0, statePath });
      const port = Number(/:(\d+)$/.exec(v.endpoint!)![1]);
      fido2Keys.push(v);
      const s = await Ctap2Session.open(await CtapHidDevice.open(v.device()));
      await s.setPin(NEW_PIN);
      await s.close();
      const env = { ...ctx.env, KEYBRIDGE_FIDO2_TCP: v.endpoint! };
      const key = await credential(ctx, env, v);
      const shown = touchText(`FIDO2 key at ${v.endpoint}`);
      return {
        deviceId: `${name}:tcp:${v.endpoint}`,
        env: { KEYBRIDGE_FIDO2_TCP: v.endpoint! },
        shown: [shown],
        batches: [{ key, files: MANY, pauseMs: 0, withoutAgent: { pauseMs: 0, prompts: [1, 1, 1] } }],
        async afterForgetting() {
          expect(await batch(key, key.files.slice(0, 2))).toEqual([1, 0]);
        },
        main: key,
        // Pulled: its connections drop and it answers none until plugged in again (same port, same state).
        async remove() {
          await v.stop();
        },
        async insert() {
          v = await startVirtualFido2({ port, statePath });
          fido2Keys.push(v);
        },
        // The key holds the agent in getAssertion for 4 s (a touch not yet given).
        async holdInOperation() {
          let touches = 0;
          const off = v.onEvent((e) => e.type === 'touch-requested' && touches++);
          v.setTouch({ timeoutMs: 4000 });
          return {
            key,
            file: key.files[MANY - 1]!,
            waitHeld: () => waitFor(() => touches > 0, 20_000),
            release() {
              off();
              v.setTouch('approve');
            },
            texts: [shown],
            // typed twice: for the agent, then for the plugin decrypting by itself
            prompts: [2],
          };
        },
      };
    },
  };
}

/** age-plugin-fido2-hmac, a credential that requires the PIN, with a separate identity (a native age1 recipient). */
const FIDO2_HMAC = fido2Case('fido2-hmac', (key) => `Please touch your token (${key})...`, async (ctx, env) => {
  // PIN, "require a PIN for decryption?" yes, "separate identity?" yes
  const g = await run(process.execPath, [`${DIST}/age-plugin-fido2-hmac.mjs`, '-g'], { env, input: `${NEW_PIN}\ny\ny\n`, noTty: true, timeoutMs: 60_000 });
  expect(g.code, g.stderr).toBe(0);
  const recipient = /# public key: (age1\w+)/.exec(g.stdout)![1]!;
  const idFile = join(ctx.dir, 'fido2.txt');
  writeFileSync(idFile, g.stdout);
  // The first file through stock age, the rest in-process.
  return { kind: 'fido', idFile, files: await encryptFiles({ ...ctx, env }, 'fido', recipient, MANY) };
});

/** age-plugin-fido2prf: symmetric, every operation (encryption too) verifies the PIN. */
const FIDO2PRF = fido2Case('fido2prf', (key) => `Touch your security key (${key})...`, async (ctx, env, v) => {
  const g = await run(process.execPath, [`${DIST}/age-plugin-fido2prf.mjs`, '-generate', 'example.com'], { env, input: `${NEW_PIN}\n`, noTty: true, timeoutMs: 60_000 });
  expect(g.code, g.stdout + g.stderr).toBe(0);
  const idFile = join(ctx.dir, 'prf.txt');
  writeFileSync(idFile, g.stdout);
  const keys = new AuthenticatorSet(fido2DeviceSource({ KEYBRIDGE_FIDO2_TCP: v.endpoint! }));
  try {
    // The first file through stock age (`age -e -i`, the PIN on a pty), the rest in-process.
    const files = await encryptFiles({ ...ctx, env }, 'prf', { identity: idFile }, MANY, new Fido2PrfIdentity(g.stdout.trim(), { keys, pin: async () => NEW_PIN }));
    return { kind: 'prf', idFile, files };
  } finally {
    await keys.close();
  }
});
const fido2Keys: VirtualFido2[] = [];
afterAll(async () => {
  for (const v of fido2Keys) await v.stop().catch(() => undefined);
});

/** A FIDO2 key needs no pcscd: a scratch directory and the plugins on PATH. */
function describeWithoutRig(name: string, body: (ctx: RigContext) => void): void {
  const { dir, env } = pluginPath(['yubikey', 'picohsm', 'fido2-hmac', 'fido2prf']);
  describe(name, () => body({ dir, env } as RigContext));
}

/** The device id the agent gives a Pico HSM identity: `picohsm:tag:<device tag>` (read from the identity by the plugin's code). */
async function agentDeviceId(idFile: string): Promise<string> {
  const { decodeIdentity } = await import('../../src/plugins/picohsm/identity.ts');
  const { deviceRefOf } = await import('../../src/plugins/picohsm/family.ts');
  const line = /^(AGE-PLUGIN-PICOHSM-1\w+)$/m.exec(readFileSync(idFile, 'utf8'))![1]!;
  return `picohsm:${deviceRefOf(decodeIdentity(line)).key}`;
}

for (const fam of [YUBIKEY, PICOHSM, FIDO2_HMAC, FIDO2PRF]) {
  (fam.pcsc ? describeWithRig : describeWithoutRig)(`keybridge agent with age and ${fam.title}`, (ctx) => {
    let f: FamilySetup;
    let agentEnv: NodeJS.ProcessEnv;
    let sockDir: string;
    let agentPid = 0;

    // An agent a failed test left running is stopped with the file.
    afterAll(() => {
      if (agentPid) {
        try {
          process.kill(agentPid, 'SIGCONT');
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
    const forgotten = async () => !(await status()).devices.some((d) => d.id === f.deviceId);
    const lock = async () => {
      const r = await keybridge(['agent', 'lock'], { env: agentEnv });
      expect(r.code, r.stderr).toBe(0);
    };
    /** Decrypts each file in its own `age -d`, pausing between them; returns the prompts per file. */
    const batch: Batch = async (key, files, pauseMs = 0) => {
      const prompts: number[] = [];
      for (const [i, file] of files.entries()) {
        if (i > 0 && pauseMs) await sleep(pauseMs);
        const r = await decryptOnPty(agentEnv, key.idFile, file, NEW_PIN);
        expect(r.code, r.out).toBe(0);
        expect(r.out).toContain(`secret ${/(\w+)-(\d+)\.age$/.exec(file)!.slice(1).join(' ')}`);
        expect(r.out).not.toContain(NEW_PIN);
        for (const t of f.shown ?? []) expect(r.out).toContain(t);
        prompts.push(r.prompts);
      }
      return prompts;
    };

    itWith([age, python])('setup: keys on the token, files encrypted to each', async () => {
      sockDir = join(ctx.dir, 'agent');
      agentEnv = { ...ctx.env, KEYBRIDGE_AGENT_SOCK: join(sockDir, 'agent.sock') };
      f = await fam.setup(ctx, batch);
      agentEnv = { ...agentEnv, ...f.env };
    }, 180_000);

    itWith([age, python])('without an agent, as today: each paused (or PIN-"always") file asks again', async () => {
      for (const b of f.batches) {
        if (!b.withoutAgent) continue;
        await sleep(PAUSE_MS); // the previous decryption just verified the card's PIN
        expect(await batch(b.key, b.key.files.slice(0, 3), b.withoutAgent.pauseMs)).toEqual(b.withoutAgent.prompts);
      }
    }, 120_000);

    itAgent(`with the agent: ${MANY} separate age -d, back to back, and ${PAUSED} with ${PAUSE_MS / 1000} s pauses, each batch asks once`, async () => {
      await sleep(PAUSE_MS); // pcscd powers the card down: the last decryption's PIN is gone
      await startAgent();
      for (const b of f.batches) {
        await lock();
        const prompts = await batch(b.key, b.key.files.slice(0, b.files), b.pauseMs);
        expect(prompts, `${b.files} files of ${b.key.kind}, ${b.pauseMs} ms apart`).toEqual([1, ...Array(b.files - 1).fill(0)]);
        expect((await status()).devices).toMatchObject([{ id: f.deviceId }]);
      }
    }, 400_000);

    itAgent('lock and SIGHUP make the next decryption ask again', async () => {
      await lock();
      await f.afterForgetting();
      expect(await forgotten()).toBe(false);
      await lock();
      expect(await forgotten()).toBe(true);
      await f.afterForgetting();
      process.kill(agentPid, 'SIGHUP');
      await waitFor(forgotten);
      await f.afterForgetting();
    }, 120_000);

    itAgent('removing the card makes the agent forget it: the next decryption asks again', async () => {
      expect(await batch(f.main, f.main.files.slice(0, 1))).toEqual([0]);
      await f.remove();
      await waitFor(forgotten);
      await f.insert();
      await f.afterForgetting();
    }, 120_000);

    itAgent('the idle timeout and the maximum lifetime each make the next decryption ask again', async () => {
      await stopAgent();
      await startAgent(['--idle-timeout', '3s']);
      expect(await batch(f.main, f.main.files.slice(0, 2))).toEqual([1, 0]);
      await waitFor(forgotten, 10_000);
      await f.afterForgetting();
      await stopAgent();

      // The lifetime runs from the device's first use, which is after t0: busy use (decryptions
      // back to back, far inside the 1 h idle timeout) does not extend it, so the PIN is asked
      // again, and not before 3 s after t0, however slow each decryption is on a loaded machine.
      const t0 = Date.now();
      await startAgent(['--idle-timeout', '1h', '--max-lifetime', '3s']);
      expect(await batch(f.main, f.main.files.slice(0, 1))).toEqual([1]);
      const runs: { end: number; prompts: number }[] = [];
      while (!runs.some((r) => r.prompts > 0) && Date.now() - t0 < 90_000) {
        const [prompts] = await batch(f.main, f.main.files.slice(0, 1));
        runs.push({ end: Date.now(), prompts: prompts! });
      }
      const again = runs.findIndex((r) => r.prompts > 0);
      expect(again, `asked again after ${runs.length} back-to-back decryptions`).toBeGreaterThanOrEqual(0);
      expect(runs[again]!.prompts).toBe(1);
      expect(runs[again]!.end - t0).toBeGreaterThanOrEqual(3000);
      await stopAgent();
    }, 200_000);

    itAgent('an agent that is alive but does not answer (SIGSTOP): age -d falls back after a short timeout and decrypts, asking the PIN itself', async () => {
      await startAgent();
      expect(await batch(f.main, f.main.files.slice(0, 2))).toEqual([1, 0]);
      await lock(); // the card forgets the PIN: the plugin on its own has to ask
      process.kill(agentPid, 'SIGSTOP');
      try {
        for (const file of f.main.files.slice(2, 4)) {
          await sleep(PAUSE_MS); // the card forgets a PIN the previous plugin verified (Pico HSM)
          const t = Date.now();
          const r = await decryptOnPty(agentEnv, f.main.idFile, file, NEW_PIN, 20);
          expect(r.code, r.out).toBe(0);
          expect(r.out).toContain(`secret ${f.main.kind} ${/-(\d+)\.age$/.exec(file)![1]}`);
          expect(r.prompts).toBe(1);
          // connect + hello are bounded at 1 s; the rest is one ordinary decryption
          expect(Date.now() - t).toBeLessThan(10_000);
        }
      } finally {
        process.kill(agentPid, 'SIGCONT');
      }
      // Woken up, the agent serves again (it asks: it never saw the PIN the plugin was given).
      await sleep(PAUSE_MS);
      expect(await batch(f.main, f.main.files.slice(4, 6))).toEqual([1, 0]);
    }, 120_000);

    itAgent('killing the agent in the middle of a decryption (held in a touch or button press): the plugin decrypts by itself', async () => {
      await stopAgent();
      await startAgent();
      expect(await batch(f.main, f.main.files.slice(0, 1))).toEqual([1]);
      await lock(); // the agent asks for the PIN again, then holds in the operation
      if (fam.pcsc) await sleep(PAUSE_MS); // pcscd powers the released card down: its PIN is gone
      const h = await f.holdInOperation();
      const pending = decryptOnPty(agentEnv, h.key.idFile, h.file, NEW_PIN, 60, Math.max(...h.prompts));
      await h.waitHeld();
      process.kill(agentPid, 'SIGKILL');
      agentPid = 0;
      h.release();
      const r = await pending;
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain(`secret ${/(\w+)-(\d+)\.age$/.exec(h.file)!.slice(1).join(' ')}`);
      for (const t of h.texts) expect(r.out).toContain(t);
      expect(h.prompts).toContain(r.prompts);
    }, 120_000);

    itAgent("a wrong PIN through the agent: asked again with the tries left, the right one kept; neither PIN in the transcript, the agent's argv, environment or log", async () => {
      if (!agentPid) await startAgent();
      await lock();
      if (fam.pcsc) await sleep(PAUSE_MS); // pcscd powers the released card down: its PIN is gone
      const [file, next] = f.main.files.slice(6, 8);
      const r = await decryptOnPty(agentEnv, f.main.idFile, file!, [WRONG_PIN, NEW_PIN]);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain(`secret ${/(\w+)-(\d+)\.age$/.exec(file!)!.slice(1).join(' ')}`);
      expect(r.prompts).toBe(2);
      expect(r.out).toMatch(/(?:Invalid PIN \(\d+ tries? remaining before it is blocked\)|Wrong PIN \(\d+ tries? left\))\. /);
      expect(await batch(f.main, [next!])).toEqual([0]);
      const log = readFileSync(join(sockDir, 'agent.log'), 'utf8');
      for (const where of [r.out, log, readFileSync(`/proc/${agentPid}/cmdline`, 'latin1'), readFileSync(`/proc/${agentPid}/environ`, 'latin1')]) {
        expect(where).not.toContain(WRONG_PIN);
        expect(where).not.toContain(NEW_PIN);
      }
    }, 60_000);

    itAgent("the PIN is in none of the agent's argv, environment or log", async () => {
      if (!agentPid) await startAgent();
      await lock();
      expect(await batch(f.main, f.main.files.slice(0, 1))).toEqual([1]);
      for (const what of ['cmdline', 'environ']) expect(readFileSync(`/proc/${agentPid}/${what}`, 'latin1')).not.toContain(NEW_PIN);
      const log = readFileSync(join(sockDir, 'agent.log'), 'utf8');
      expect(log).toMatch(new RegExp(`unwrap ${fam.name} for pid \\d+: 1 file\\(s\\), 1 file key\\(s\\), 0 error\\(s\\)`));
      expect(log).not.toContain(NEW_PIN);
      await stopAgent();
      expect(existsSync(join(sockDir, 'agent.sock'))).toBe(false);
    }, 60_000);

    if (fam.name === 'yubikey')
    itWith([age])('headless (CI): the PIN from a 0600 KEYBRIDGE_PIN_FILE or from KEYBRIDGE_PIN_FD, through age with no terminal; a wider mode is refused', async () => {
      const pinFile = join(ctx.dir, 'pin');
      writeFileSync(pinFile, `${NEW_PIN}\n`, { mode: 0o600 });
      const noAgent = { ...ctx.env, KEYBRIDGE_AGENT_SOCK: join(ctx.dir, 'no-agent', 'agent.sock') };
      const viaFile = await run('age', ['-d', '-i', f.main.idFile, f.main.files[1]!], { env: { ...noAgent, KEYBRIDGE_PIN_FILE: pinFile }, noTty: true });
      expect(viaFile.code, viaFile.stderr).toBe(0);
      expect(viaFile.stdout).toBe('secret always 1\n');
      expect(viaFile.stderr).not.toContain(NEW_PIN);
      // a pipe on fd 3 of age reaches the plugin it starts
      const viaFd = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const c = spawn('age', ['-d', '-i', f.main.idFile, f.main.files[2]!], { env: { ...noAgent, KEYBRIDGE_PIN_FD: '3' }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: true });
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
      const wide = await run('age', ['-d', '-i', f.main.idFile, f.main.files[1]!], { env: { ...noAgent, KEYBRIDGE_PIN_FILE: pinFile }, noTty: true });
      expect(wide.code).not.toBe(0);
      expect(wide.stderr).toContain(`KEYBRIDGE_PIN_FILE: ${pinFile} has mode 0644; it must be readable by you only (chmod 600 ${pinFile})`);
      expect(wide.stderr).not.toContain(NEW_PIN);
    }, 60_000);
  });
}
