/**
 * Cancelling what a token waits for when nobody is left to wait for it: a state machine runs
 * with an AbortSignal that fires on SIGINT / SIGTERM (Ctrl-C, age's teardown), when writing to a
 * client that died fails (EPIPE: the protocol layer reports the hang-up, but the stream error
 * must not end the process before the token is told), and when the machine ends (the client
 * hung up mid-operation). Families pass the signal to the device call (FIDO2: CTAPHID_CANCEL).
 */
import type { Writable } from 'node:stream';

export async function withCancellation<T>(stdout: Writable, run: (signal: AbortSignal) => Promise<T>, cleanup: () => Promise<void>): Promise<T> {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  stdout.on('error', onSignal);
  try {
    return await run(abort.signal);
  } finally {
    abort.abort();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}

/** Whether an environment variable is set to a true value (`1` or `true`). */
export function envFlag(env: NodeJS.ProcessEnv, name: string): boolean {
  return env[name] === '1' || env[name] === 'true';
}
