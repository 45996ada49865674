/**
 * age-plugin-fido2-hmac on the age plugin protocol (decoded by `runPluginV1`). The keys are
 * reached through KEYBRIDGE_FIDO2_TCP (TCP endpoints) or USB HID; FIDO2_TOKEN restricts them to
 * one device path; a pending touch is cancelled (CTAPHID_CANCEL) when the client goes away or on
 * SIGINT/SIGTERM.
 */
import type { Io } from '../../term/io.ts';
import { hasTerminal } from '../../term/prompt.ts';
import { fido2DeviceSource } from '../../transport/fido2Devices.ts';
import { AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { debugLog, envFlag, runCancellablePlugin, sendUnwrapResult } from '../kit/run.ts';
import { PLUGIN_NAME } from './format.ts';
import { TEXTS } from './texts.ts';
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
  const log = debugLog(io, 'age-plugin-fido2-hmac');
  const base = { keys, skipNotFound: envFlag(io.env, SKIP_ENV), interactive: hasTerminal, ...(log ? { log } : {}) };
  return runCancellablePlugin({ name: PLUGIN_NAME, stateMachine, io, texts: TEXTS, cleanup: () => keys.close() }, (signal) => ({
    async wrapFileKeys(req) {
      const r = await wrapFileKeys(req, new HmacSource({ ...base, ui: req.ui, signal }), keys, req.ui, signal);
      return { stanzas: r.stanzas, labels: [], errors: r.errors };
    },
    async unwrapFileKeys(req, send) {
      if (req.identities.length === 0) return;
      await sendUnwrapResult(await unwrapFiles(req.identities, req.files, new HmacSource({ ...base, ui: req.ui, signal })), send, log);
    },
  }));
}
