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
import { inputChunks, type Io } from '../../term/io.ts';
import type { KitTexts } from './family.ts';
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

export interface CancellableRun {
  readonly name: string;
  readonly stateMachine: string;
  readonly io: Io;
  /** Texts for strings that do not decode. */
  readonly texts: Pick<KitTexts, 'invalidRecipient' | 'invalidIdentity'>;
  /** Runs after the machine (and the cancel) — closing the devices. */
  readonly cleanup: () => Promise<void>;
}

/** `--age-plugin=<stateMachine>` for a decoded handler made per run with the cancel signal. */
export function runCancellablePlugin(run: CancellableRun, handler: (signal: AbortSignal) => Omit<PluginHandler, 'invalidRecipient' | 'invalidIdentity'>): Promise<number> {
  const { io, texts } = run;
  const plugin = (signal: AbortSignal) => ({ invalidRecipient: texts.invalidRecipient, invalidIdentity: texts.invalidIdentity, ...handler(signal) });
  return withCancellation(io.stdout, (signal) => runPluginV1({ name: run.name, stateMachine: run.stateMachine, stdin: inputChunks(io), stdout: io.stdout, stderr: io.stderr, handler: plugin(signal) }), run.cleanup);
}

/** `AGEDEBUG=plugin`: debug lines on stderr, prefixed with the binary's name. */
export function debugLog(io: Pick<Io, 'env' | 'stderr'>, binary: string): ((line: string) => void) | undefined {
  return io.env.AGEDEBUG === 'plugin' ? (l) => void io.stderr.write(`${binary}: ${l}\n`) : undefined;
}

/** Sends an unwrap result: file keys in file order, then the errors age should see. */
export async function sendUnwrapResult(r: { fileKeys: Map<number, Uint8Array>; errors: IdentityV1Error[] }, send: UnwrapSink, log?: (line: string) => void): Promise<void> {
  for (const [file, key] of [...r.fileKeys.entries()].sort(([a], [b]) => a - b)) await send.fileKey(file, key);
  for (const e of reportable(r)) {
    log?.(e.message);
    await send.error(e);
  }
}
