/**
 * End-to-end tests through the real PC/SC stack: pcscd + vpcd + virtual cards. A file that uses
 * `describeWithRig` starts its own pcscd (one per machine, so files take a lock and run one at a
 * time), puts the plugin binaries on PATH, and tears everything down afterwards. When pcscd or vpcd
 * is missing the tests are skipped loudly, or fail under KEYBRIDGE_REQUIRE_E2E=1 (CI).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { RigError, pcscdRunning, rigUnavailableReason, startRig, type Rig } from '../../src/rig/pcscd.ts';
import { startVirtualYubiKey, type VirtualYubiKey, type VirtualYubiKeyOptions } from '../../src/sim/yubikey/card.ts';
import { DIST, ROOT } from './run.ts';
import { REQUIRE_E2E } from './tools.ts';
import { acquireLock, LOCK_WAIT_MS as WAIT_FOR_PCSCD_MS, releaseLock } from './rigLock.ts';

/**
 * startRig once the machine's pcscd is free: a pcscd started by something that does not take
 * this lock (another checkout's tests, a system service being stopped) is waited out, bounded.
 */
/** Whether a TCP port on the loopback can be listened on (vpcd's reader ports must be free). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A pair of free vpcd ports away from the default 35963/35964, so that a virtual card some other
 * process on this machine plugs into the default ports can never land in this rig's readers.
 */
async function privatePorts(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 36000 + 2 * Math.floor(Math.random() * 2000);
    if ((await portFree(port)) && (await portFree(port + 1))) return port;
  }
  throw new Error('no free pair of TCP ports for the vpcd readers');
}

async function startRigWhenFree(): Promise<Rig> {
  const deadline = Date.now() + WAIT_FOR_PCSCD_MS;
  for (;;) {
    if (!pcscdRunning()) {
      try {
        return await startRig({ port: await privatePorts() });
      } catch (e) {
        if (!(e instanceof RigError && e.code === 'PCSCD_RUNNING')) throw e;
      }
    }
    if (Date.now() > deadline) throw new Error('timed out waiting for another pcscd on this machine to stop');
    await new Promise((r) => setTimeout(r, 250));
  }
}


export interface RigContext {
  rig: Rig;
  /** A directory on PATH holding the built plugin bins (dist/age-plugin-*.cjs, what package.json installs). */
  binDir: string;
  /** A scratch directory for the test file. */
  dir: string;
  /** Environment for child processes: plugins on PATH. */
  env: NodeJS.ProcessEnv;
  /** Inserts a virtual YubiKey into reader slot `slot` (0 or 1). */
  yubikey(opts?: Partial<VirtualYubiKeyOptions> & { slot?: 0 | 1 }): Promise<VirtualYubiKey>;
  /**
   * Inserts any virtual token: `start` connects it to the vpcd port it is given; the token is
   * stopped after the file's tests, and pcscd has seen it when this resolves.
   */
  plug<T extends PluggedToken>(start: (port: number) => Promise<T>, slot?: 0 | 1): Promise<T>;
  /** Resolves once pcscd reports reader slot `slot` empty (after a token's `remove()`). */
  unplugged(slot?: 0 | 1): Promise<void>;
}

export interface PluggedToken {
  stop(): Promise<void>;
}

/**
 * When pcscd or vpcd cannot run here: a loudly skipped block, or under KEYBRIDGE_REQUIRE_E2E=1 a
 * failing one. Returns whether that happened.
 */
function unavailable(name: string, body: () => void): boolean {
  const reason = rigUnavailableReason();
  if (!reason) return false;
  if (REQUIRE_E2E) {
    describe(name, () => {
      it('needs pcscd + vpcd', () => {
        throw new Error(`KEYBRIDGE_REQUIRE_E2E=1 but ${reason}`);
      });
    });
  } else {
    process.stderr.write(`SKIP ${name}: ${reason}\n`);
    describe.skip(`${name} [skipped: ${reason}]`, body);
  }
  return true;
}

/**
 * A describe block for tests that start pcscd themselves (the demo): same availability rules and
 * the same machine-wide lock as describeWithRig, but no rig is started for them.
 */
export function describeWithRigLock(name: string, body: () => void): void {
  if (unavailable(name, body)) return;
  describe(name, () => {
    beforeAll(async () => {
      await acquireLock();
      const deadline = Date.now() + WAIT_FOR_PCSCD_MS;
      while (pcscdRunning() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    }, WAIT_FOR_PCSCD_MS + 60_000);
    afterAll(releaseLock);
    body();
  });
}

export function describeWithRig(name: string, body: (ctx: RigContext) => void): void {
  if (unavailable(name, () => body({} as RigContext))) return;
  describe(name, () => {
    const cards: PluggedToken[] = [];
    const ctx = {} as RigContext;
    beforeAll(async () => {
      await acquireLock();
      ctx.dir = mkdtempSync(join(tmpdir(), 'keybridge-e2e-'));
      ctx.binDir = join(ctx.dir, 'bin');
      mkdirSync(ctx.binDir);
      for (const f of readdirSync(DIST)) {
        const m = /^(age-plugin-[a-z0-9-]+)\.cjs$/.exec(f);
        if (m) symlinkSync(join(DIST, f), join(ctx.binDir, m[1]!));
      }
      ctx.env = { ...process.env, PATH: `${ctx.binDir}:${process.env.PATH}`, KEYBRIDGE_ROOT: ROOT };
      ctx.rig = await startRigWhenFree();
      ctx.plug = async (start, slot = 0) => {
        // A card just pulled from this slot must be gone for pcscd first, or the two merge.
        await ctx.rig.waitForCard(slot, 'absent');
        const token = await start(ctx.rig.ports[slot]);
        cards.push(token);
        // pcscd polls for cards every 400 ms (longer on a loaded machine): wait until it reports this one.
        await ctx.rig.waitForCard(slot, 'present');
        return token;
      };
      ctx.unplugged = (slot = 0) => ctx.rig.waitForCard(slot, 'absent');
      ctx.yubikey = async (opts = {}) => {
        const { slot = 0, ...rest } = opts;
        return ctx.plug((port) => startVirtualYubiKey({ port, ...rest }), slot);
      };
    }, 2 * WAIT_FOR_PCSCD_MS + 60_000);
    afterAll(async () => {
      for (const c of cards) await c.stop().catch(() => undefined);
      await ctx.rig?.stop();
      if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
      releaseLock();
    });
    body(ctx);
  });
}
