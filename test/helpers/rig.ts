/**
 * End-to-end tests through the real PC/SC stack: pcscd + vpcd + virtual cards. A file that uses
 * `describeWithRig` starts its own pcscd (one per machine, so files take a lock and run one at a
 * time), puts the plugin binaries on PATH, and tears everything down afterwards. When pcscd or vpcd
 * is missing the tests are skipped loudly, or fail under KEYBRIDGE_REQUIRE_E2E=1 (CI).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { rigUnavailableReason, startRig, type Rig } from '../../src/rig/pcscd.ts';
import { openPcsc } from '../../src/transport/pcsc.ts';
import { startVirtualYubiKey, type VirtualYubiKey, type VirtualYubiKeyOptions } from '../../src/sim/yubikey/card.ts';
import { DIST, ROOT } from './run.ts';
import { REQUIRE_E2E } from './tools.ts';

const LOCK = join(tmpdir(), 'keybridge-rig.lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function acquireLock(): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      return;
    } catch {
      let owner = NaN;
      try {
        owner = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
      } catch {
        /* being created */
      }
      if (Number.isInteger(owner) && owner > 0 && !alive(owner)) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('timed out waiting for the pcscd rig lock');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Releases the lock only when this process holds it (a beforeAll that timed out must not free another's). */
function releaseLock(): void {
  try {
    if (readFileSync(join(LOCK, 'pid'), 'utf8') !== String(process.pid)) return;
  } catch {
    return;
  }
  rmSync(LOCK, { recursive: true, force: true });
}

export interface RigContext {
  rig: Rig;
  /** A directory on PATH holding the built plugin bins (dist/age-plugin-*.mjs). */
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

/** Waits (bounded: 10 s) until pcscd reports a card in `reader`, or reports none. */
async function waitForCard(reader: string, present: boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const readers = await openPcsc();
    let has: boolean;
    try {
      has = (await readers.list()).includes(reader);
    } finally {
      await readers.close();
    }
    if (has === present) return;
    if (Date.now() > deadline) throw new Error(`pcscd did not see the card ${present ? 'inserted into' : 'removed from'} ${reader} within 10 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
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
    beforeAll(acquireLock);
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
        const m = /^(age-plugin-[a-z0-9-]+)\.mjs$/.exec(f);
        if (m) symlinkSync(join(DIST, f), join(ctx.binDir, m[1]!));
      }
      ctx.env = { ...process.env, PATH: `${ctx.binDir}:${process.env.PATH}`, KEYBRIDGE_ROOT: ROOT };
      ctx.rig = await startRig();
      ctx.plug = async (start, slot = 0) => {
        // A card just pulled from this slot must be gone for pcscd first, or the two merge.
        await waitForCard(ctx.rig.readerNames[slot], false);
        const token = await start(ctx.rig.ports[slot]);
        cards.push(token);
        await waitForCard(ctx.rig.readerNames[slot], true);
        return token;
      };
      ctx.unplugged = (slot = 0) => waitForCard(ctx.rig.readerNames[slot], false);
      ctx.yubikey = async (opts = {}) => {
        const { slot = 0, ...rest } = opts;
        return ctx.plug((port) => startVirtualYubiKey({ port, ...rest }), slot);
      };
    });
    afterAll(async () => {
      for (const c of cards) await c.stop().catch(() => undefined);
      await ctx.rig?.stop();
      if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
      releaseLock();
    });
    body(ctx);
  });
}
