/**
 * Running a family's own decoded handler (for families whose engines are their own, like FIDO2's
 * probe-located keys) with the kit's process rules:
 *
 * - cancellation: the handler gets an AbortSignal that fires on SIGINT / SIGTERM (Ctrl-C, age's
 *   teardown), when writing to a client that died fails (EPIPE: the protocol layer reports the
 *   hang-up, but the stream error must not end the process before the token is told), and when
 *   the machine ends (the client hung up mid-operation); families pass it to the device call
 *   (FIDO2: CTAPHID_CANCEL);
 * - results: file keys in file order, then the errors age should see (`reportable`).
 */
import type { Writable } from 'node:stream';
import type { IdentityV1Error } from '../../age/plugin/server.ts';
import { runPluginV1, type PluginHandler, type UnwrapSink } from '../../age/plugin/v1.ts';
import type { Io } from '../../term/io.ts';
import { reportable } from './identity.ts';

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

/** `--age-plugin=<stateMachine>` for a decoded handler made per run with the cancel signal. */
export function runCancellablePlugin(name: string, stateMachine: string, io: Io, handler: (signal: AbortSignal) => PluginHandler, cleanup: () => Promise<void>): Promise<number> {
  return withCancellation(io.stdout, (signal) => runPluginV1({ name, stateMachine, stdin: io.stdin, stdout: io.stdout, stderr: io.stderr, handler: handler(signal) }), cleanup);
}

/** Sends an unwrap result: file keys in file order, then the errors age should see. */
export async function sendUnwrapResult(r: { fileKeys: Map<number, Uint8Array>; errors: IdentityV1Error[] }, send: UnwrapSink, log?: (line: string) => void): Promise<void> {
  for (const [file, key] of [...r.fileKeys.entries()].sort(([a], [b]) => a - b)) await send.fileKey(file, key);
  for (const e of reportable({ ...r, operations: 0 })) {
    log?.(e.message);
    await send.error(e);
  }
}
