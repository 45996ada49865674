/**
 * Running a family whose device calls can be cancelled (FIDO2's pending touch) with the kit's
 * process rules:
 *
 * - cancellation: the handler gets an AbortSignal that fires on SIGINT / SIGTERM (Ctrl-C, age's
 *   teardown), when writing to a client that died fails (EPIPE: the protocol layer reports the
 *   hang-up, but the stream error must not end the process before the token is told), and when
 *   the machine ends (the client hung up mid-operation); families pass it to the device call
 *   (FIDO2: CTAPHID_CANCEL).
 */
import type { Writable } from 'node:stream';
import { runPluginV1 } from '../../age/plugin/v1.ts';
import { inputChunks, type Io } from '../../term/io.ts';
import type { AnyFamily } from './family.ts';
import { kitEnvironment, pluginHandler } from './plugin.ts';
import type { RemoteUnwrap } from './remote.ts';

/**
 * Runs `run` with the kit's cancellation rules; `signal()` is the cancel signal, made on first
 * use (a run that talks to no device, such as a wrap to a recipient, makes none: node's
 * AbortController and its events are not free at start) and already aborted when a cancellation
 * came first.
 */
export async function withCancellation<T>(stdout: Writable, run: (signal: () => AbortSignal) => Promise<T>, cleanup: () => Promise<void>): Promise<T> {
  let abort: AbortController | undefined;
  let cancelled = false;
  const onSignal = () => {
    cancelled = true;
    abort?.abort();
  };
  const signal = () => {
    if (!abort) {
      abort = new AbortController();
      if (cancelled) abort.abort();
    }
    return abort.signal;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  stdout.on('error', onSignal);
  try {
    return await run(signal);
  } finally {
    onSignal();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}

/**
 * `--age-plugin=<stateMachine>` for a family made per run with the cancel signal (families whose
 * device calls take one: FIDO2's pending touch), on the kit's engines with `kitEnvironment`. The
 * family reads `signal()` when a device call needs it.
 */
export function runCancellableFamily(stateMachine: string, io: Io, family: (signal: () => AbortSignal) => AnyFamily, cleanup: () => Promise<void>, opts: { remote?: RemoteUnwrap } = {}): Promise<number> {
  return withCancellation(
    io.stdout,
    (signal) => {
      const f = family(signal);
      return runPluginV1({ name: f.name, stateMachine, stdin: inputChunks(io), stdout: io.stdout, stderr: io.stderr, handler: pluginHandler(f, kitEnvironment(f, io, opts)) });
    },
    cleanup,
  );
}
