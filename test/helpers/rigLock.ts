/**
 * The machine-wide lock that serialises everything starting a pcscd (only one can run): a
 * directory holding the owner's pid; a dead owner's lock is taken over. Used by the e2e rig
 * helper and by the benchmarks.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const LOCK = join(tmpdir(), 'keybridge-rig.lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function acquireLock(): Promise<void> {
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


export function releaseLock(): void {
  rmSync(LOCK, { recursive: true, force: true });
}
