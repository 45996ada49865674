/**
 * Whether someone could be asked: a module of its own so that a plugin's start path, which only
 * checks, does not load the prompter (src/term/prompt.ts).
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
