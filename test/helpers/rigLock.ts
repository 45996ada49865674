/**
 * The machine-wide lock that serialises everything starting a pcscd (only one can run): a
 * directory holding the owner's pid; a dead owner's lock is taken over. Used by the e2e rig
 * helper and by the benchmarks.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const LOCK = join(tmpdir(), 'keybridge-rig.lock');

/** Whether process `pid` exists (signal 0). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** How long to wait for the lock: other test runs may hold the machine's one pcscd for minutes. */
export const LOCK_WAIT_MS = 15 * 60_000;

export async function acquireLock(waitMs = LOCK_WAIT_MS): Promise<void> {
  const deadline = Date.now() + waitMs;
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
export function releaseLock(): void {
  try {
    if (readFileSync(join(LOCK, 'pid'), 'utf8') !== String(process.pid)) return;
  } catch {
    return;
  }
  rmSync(LOCK, { recursive: true, force: true });
}
