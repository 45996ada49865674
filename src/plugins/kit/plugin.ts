/**
 * A family on the age plugin protocol: the decoded `PluginHandler` (src/age/plugin/v1.ts) that
 * runs the kit's engines, and `runStateMachine` for `--age-plugin=…`, with the environment every
 * kit plugin reads: `AGEDEBUG=plugin` (debug lines on stderr) and the family's skip-not-found
 * variable. A terminal is looked for only when a device is absent.
 */
import { runPluginV1, type PluginHandler } from '../../age/plugin/v1.ts';
import { hasTerminal } from '../../term/terminal.ts';
import { inputChunks, type Io } from '../../term/io.ts';
import type { AnyFamily, OpenDevice, TokenFamily } from './family.ts';
import { reportable } from './identity.ts';
import type { PinSource } from './pinSource.ts';
import { ciPinSource } from './ciPinSource.ts';
import { unwrapRequest, type RemoteUnwrap } from './remote.ts';
import { wrapFileKeys } from './recipient.ts';

export interface KitEnvironment {
  skipNotFound: boolean;
  interactive: boolean | (() => boolean);
  log?: (line: string) => void;
  /** PIN sources asked before the user (agent, CI). */
  pinSources?: PinSource[];
  /** A session agent to hand the unwrap to (injected by the entry point); unused when absent or unreachable. */
  remote?: RemoteUnwrap;
}

/** What the process environment says (AGEDEBUG, the family's skip variable). */
export function kitEnvironment<I, P, R, D extends OpenDevice>(
  family: TokenFamily<I, P, R, D>,
  io: Pick<Io, 'env' | 'stderr'>,
  opts: { remote?: RemoteUnwrap } = {},
): KitEnvironment {
  const skip = family.skipNotFoundEnv ? io.env[family.skipNotFoundEnv] : undefined;
  const warn = (l: string) => io.stderr.write(`age-plugin-${family.name}: ${l}\n`);
  return {
    skipNotFound: skip === '1' || skip === 'true',
    // Checked only when a device is missing (opening /dev/tty is not free).
    interactive: hasTerminal,
    ...(io.env.AGEDEBUG === 'plugin' ? { log: warn } : {}),
    // Opt-in: KEYBRIDGE_PIN_FD / KEYBRIDGE_PIN_FILE; passes when neither is set.
    pinSources: [ciPinSource(io.env, warn)],
    ...(opts.remote ? { remote: opts.remote } : {}),
  };
}

export function pluginHandler<I, P, R, D extends OpenDevice>(family: TokenFamily<I, P, R, D>, env: KitEnvironment): PluginHandler {
  return {
    invalidRecipient: family.texts.invalidRecipient,
    invalidIdentity: family.texts.invalidIdentity,
    async wrapFileKeys(req) {
      return wrapFileKeys(family, req, {
        ui: req.ui,
        skipNotFound: env.skipNotFound,
        interactive: env.interactive,
        ...(env.log ? { log: env.log } : {}),
        ...(env.pinSources ? { pinSources: env.pinSources } : {}),
      });
    },
    async unwrapFileKeys(req, send) {
      if (req.identities.length === 0) return;
      const r = await unwrapRequest(family, req, { ui: req.ui, ...env });
      for (const [file, key] of [...r.fileKeys.entries()].sort(([a], [b]) => a - b)) await send.fileKey(file, key);
      for (const e of reportable(r)) await send.error(e);
    },
  };
}

/**
 * Runs `--age-plugin=<stateMachine>` for the family `name`; returns the exit code. The family is
 * loaded once the client has sent its requests, so starting the plugin stays cheap.
 */
export function runStateMachine(
  name: string,
  loadFamily: () => Promise<AnyFamily>,
  stateMachine: string,
  io: Io,
  env?: (family: AnyFamily) => KitEnvironment,
): Promise<number> {
  return runPluginV1({
    name,
    stateMachine,
    stdin: inputChunks(io),
    stdout: io.stdout,
    stderr: io.stderr,
    handler: async () => {
      const family = await loadFamily();
      return pluginHandler(family, env ? env(family) : kitEnvironment(family, io));
    },
  });
}
