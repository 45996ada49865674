/**
 * Whether someone could be asked: the check alone, without the prompting code (prompt.ts), for
 * code that asks only when a device is absent (the plugins' start path reads this module only).
 */
import { closeSync, openSync } from 'node:fs';

/** Whether a controlling terminal exists (someone could be asked). */
export function hasTerminal(): boolean {
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}
