/**
 * age-plugin-fido2-hmac on the age plugin protocol. The keys are reached through
 * KEYBRIDGE_FIDO2_TCP (one TCP endpoint) or USB HID, FIDO2_TOKEN restricts them to one device
 * path; a pending touch is cancelled (CTAPHID_CANCEL) when the client goes away or on
 * SIGINT/SIGTERM.
 */
import type { Io } from '../../term/io.ts';
import { hasTerminal } from '../../term/prompt.ts';
import { runPlugin } from '../../age/plugin/server.ts';
import { fido2DeviceSource } from '../../transport/fido2Devices.ts';
import { AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { PLUGIN_NAME } from './format.ts';
import { HmacSource } from './token.ts';
import { unwrapFiles } from './unwrap.ts';
import { wrapFileKeys } from './wrap.ts';

export const SKIP_ENV = 'AGE_PLUGIN_FIDO2_HMAC_SKIP_NOT_FOUND';

export function openKeys(env: NodeJS.ProcessEnv): AuthenticatorSet {
  const only = env.FIDO2_TOKEN;
  return new AuthenticatorSet(fido2DeviceSource(env), only ? { onlyPath: only } : {});
}

export async function runStateMachine(stateMachine: string, io: Io): Promise<number> {
  const keys = openKeys(io.env);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // A client that died makes writes fail with EPIPE; the protocol layer sees it as a hang-up, and
  // the pending touch must still be cancelled, so the stream error must not end the process.
  io.stdout.on('error', onSignal);
  const skip = io.env[SKIP_ENV] === '1' || io.env[SKIP_ENV] === 'true';
  const debug = io.env.AGEDEBUG === 'plugin' ? (l: string) => io.stderr.write(`age-plugin-fido2-hmac: ${l}\n`) : undefined;
  try {
    return await runPlugin({
      name: PLUGIN_NAME,
      stateMachine,
      stdin: io.stdin,
      stdout: io.stdout,
      stderr: io.stderr,
      recipient: {
        async wrapFileKeys(req) {
          const source = new HmacSource({ keys, ui: req.ui, skipNotFound: skip, interactive: hasTerminal, signal: abort.signal });
          const r = await wrapFileKeys(req, source, keys, req.ui, abort.signal);
          return { stanzas: r.stanzas, labels: [], errors: r.errors };
        },
      },
      identity: {
        async unwrapFileKeys(req, send) {
          if (req.identities.length === 0) return;
          const source = new HmacSource({ keys, ui: req.ui, skipNotFound: skip, interactive: hasTerminal, signal: abort.signal });
          const r = await unwrapFiles(req.identities, req.files, source);
          for (const [file, key] of [...r.fileKeys.entries()].sort(([a], [b]) => a - b)) await send.fileKey(file, key);
          for (const e of r.errors) {
            if (e.kind === 'stanza' && r.fileKeys.has(e.file)) continue;
            debug?.(e.message);
            await send.error(e);
          }
        },
      },
    });
  } finally {
    // The client may be gone with a touch pending: cancel it on the key before closing.
    abort.abort();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await keys.close();
  }
}
