/**
 * age-plugin-fido2prf on the age plugin protocol: identity-v1 decrypts `age-encryption.org/fido2prf`
 * stanzas, recipient-v1 encrypts to identities (`age -e -i identity.txt`: symmetric, the key is
 * needed). A key is found by a silent probe; a credential no key holds is "not this identity"
 * (so age tries the next one) after the absent key was asked for or skipped.
 */
import type { Io } from '../../term/io.ts';
import type { Decoded } from '../../age/plugin/v1.ts';
import { debugLog, envFlag, runCancellablePlugin, sendUnwrapResult } from '../kit/run.ts';
import { TEXTS } from './texts.ts';
import { hasTerminal } from '../../term/prompt.ts';
import type { IdentityV1Error, RecipientV1Error } from '../../age/plugin/server.ts';
import type { Stanza } from '../../age/stanza.ts';
import { fido2DeviceSource } from '../../transport/fido2Devices.ts';
import { AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { FormatError, PLUGIN_NAME, STANZA_TYPE, decodeIdentity, parseStanzaNonce, unwrap, wrap, type Fido2PrfIdentity } from './format.ts';
import { TokenError } from '../../tokens/errors.ts';
import { Fido2PrfError, PrfSource } from './token.ts';

export const SKIP_ENV = 'AGE_PLUGIN_FIDO2PRF_SKIP_NOT_FOUND';

function decodeIdentities(identities: readonly Decoded[]): { ids: { index: number; id: Fido2PrfIdentity }[]; bad: { kind: 'identity'; index: number; message: string }[] } {
  const ids: { index: number; id: Fido2PrfIdentity }[] = [];
  const bad: { kind: 'identity'; index: number; message: string }[] = [];
  for (const d of identities) {
    try {
      if (d.plugin !== PLUGIN_NAME) throw new FormatError(TEXTS.invalidIdentity);
      ids.push({ index: d.index, id: decodeIdentity(d.data) });
    } catch (err) {
      bad.push({ kind: 'identity', index: d.index, message: (err as Error).message });
    }
  }
  return { ids, bad };
}

export async function unwrapFiles(identities: readonly Decoded[], files: readonly Stanza[][], source: PrfSource): Promise<{ fileKeys: Map<number, Uint8Array>; errors: IdentityV1Error[] }> {
  const fileKeys = new Map<number, Uint8Array>();
  const errors: IdentityV1Error[] = [];
  const { ids, bad } = decodeIdentities(identities);
  if (bad.length) return { fileKeys, errors: bad };
  for (const [f, stanzas] of files.entries()) {
    const ours: { index: number; nonce: Uint8Array; body: Uint8Array }[] = [];
    let bad = false;
    for (const [i, st] of stanzas.entries()) {
      if (st.type !== STANZA_TYPE) continue;
      try {
        ours.push({ index: i, nonce: parseStanzaNonce(st.args), body: st.body });
        if (st.body.length !== 32) throw new FormatError('fido2prf: invalid stanza body');
      } catch (err) {
        errors.push({ kind: 'stanza', file: f, index: i, message: (err as Error).message });
        bad = true;
        break;
      }
    }
    if (bad) continue;
    search: for (const { index, id } of ids) {
      for (const st of ours) {
        let out: [Uint8Array, Uint8Array] | null;
        try {
          out = await source.outputs(id, st.nonce);
        } catch (err) {
          if (err instanceof TokenError) {
            errors.push({ kind: 'identity', index, message: err.message });
            return { fileKeys, errors };
          }
          throw err;
        }
        if (!out) continue search; // key absent and skipped: not this identity
        const key = unwrap(st.body, out[0], out[1]);
        if (key) {
          fileKeys.set(f, key);
          break search;
        }
      }
    }
  }
  return { fileKeys, errors };
}

export async function wrapToIdentities(identities: readonly Decoded[], fileKeys: readonly Uint8Array[], source: PrfSource): Promise<{ stanzas: Stanza[][]; errors: RecipientV1Error[] }> {
  const { ids, bad } = decodeIdentities(identities);
  if (bad.length) return { stanzas: [], errors: bad };
  const stanzas: Stanza[][] = [];
  for (const fk of fileKeys) {
    const file: Stanza[] = [];
    for (const { index, id } of ids) {
      try {
        file.push(
          await wrap(fk, async (_salts, nonce) => {
            const out = await source.outputs(id, nonce, 'fail');
            if (!out) throw new Fido2PrfError('no key');
            return out;
          }),
        );
      } catch (err) {
        return { stanzas: [], errors: [{ kind: 'identity', index, message: (err as Error).message }] };
      }
    }
    stanzas.push(file);
  }
  return { stanzas, errors: [] };
}

export async function runStateMachine(stateMachine: string, io: Io): Promise<number> {
  const keys = new AuthenticatorSet(fido2DeviceSource(io.env));
  const log = debugLog(io, 'age-plugin-fido2prf');
  const base = { keys, ...(log ? { log } : {}) };
  return runCancellablePlugin({ name: PLUGIN_NAME, stateMachine, io, texts: TEXTS, cleanup: () => keys.close() }, (signal) => ({
    async wrapFileKeys(req) {
      if (req.recipients.length) return { stanzas: [], errors: req.recipients.map((d) => ({ kind: 'recipient' as const, index: d.index, message: TEXTS.invalidRecipient })) };
      const r = await wrapToIdentities(req.identities, req.fileKeys, new PrfSource({ ...base, ui: req.ui, signal }));
      return { stanzas: r.stanzas, labels: [], errors: r.errors };
    },
    async unwrapFileKeys(req, send) {
      if (req.identities.length === 0) return;
      const source = new PrfSource({ ...base, ui: req.ui, skipNotFound: envFlag(io.env, SKIP_ENV), interactive: hasTerminal, signal });
      await sendUnwrapResult(await unwrapFiles(req.identities, req.files, source), send, log);
    },
  }));
}
