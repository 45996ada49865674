/**
 * recipient-v1 for fido2-hmac, as v0.4.0: v2 recipients wrap without the key (X25519 to the key
 * the credential's hmac-secret is); v1 recipients and v1 identities (`age -e -i`) need the key
 * for every file (a fresh salt each time); a v2 identity used as recipient wraps a native X25519
 * stanza to its key; the data-less identity (`age -e -j fido2-hmac`) makes a new credential on
 * the fly and wraps to it.
 */
import type { Stanza } from '../../age/stanza.ts';
import type { PluginUi } from '../../age/plugin/ui.ts';
import type { RecipientV1Error } from '../../age/plugin/server.ts';
import { wrapX25519, x25519PublicKey } from '../../age/x25519.ts';
import type { AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { TokenError } from '../../tokens/errors.ts';
import type { Decoded } from '../../age/plugin/v1.ts';
import { FormatError, PLUGIN_NAME, decodeIdentity, decodeRecipient, wrapV1, wrapV2 } from './format.ts';
import { TEXTS } from './texts.ts';
import { generate } from './generate.ts';
import { Fido2HmacError, HmacSource } from './token.ts';


type Wrapper = (fileKey: Uint8Array) => Promise<Stanza>;

export async function wrapFileKeys(
  req: { recipients: readonly Decoded[]; identities: readonly Decoded[]; fileKeys: readonly Uint8Array[] },
  source: HmacSource,
  keys: AuthenticatorSet,
  ui: Pick<PluginUi, 'message' | 'confirm' | 'requestSecret'>,
  signal?: AbortSignal,
): Promise<{ stanzas: Stanza[][]; errors: RecipientV1Error[] }> {
  const errors: RecipientV1Error[] = [];
  const wrappers: { kind: 'recipient' | 'identity'; index: number; wrap: Wrapper }[] = [];
  const absent = (what: string) => new Fido2HmacError(`no plugged-in FIDO2 key holds ${what}`);

  req.recipients.forEach(({ index, plugin, data }) => {
    try {
      if (plugin !== PLUGIN_NAME) throw new FormatError(TEXTS.invalidRecipient);
      const r = decodeRecipient(data);
      if (r.version !== 1) wrappers.push({ kind: 'recipient', index, wrap: async (fk) => wrapV2(fk, r) });
      else
        wrappers.push({
          kind: 'recipient',
          index,
          wrap: (fk) =>
            wrapV1(
              fk,
              async (salt) => (await source.hmac(r.credentialId, salt, r.requirePin, 'the credential of this recipient')) ?? Promise.reject(absent('the credential of this recipient')),
              { requirePin: r.requirePin, credentialId: r.credentialId },
            ),
        });
    } catch (err) {
      errors.push({ kind: 'recipient', index, message: (err as Error).message });
    }
  });
  req.identities.forEach(({ index, plugin, data }) => {
    try {
      if (plugin !== PLUGIN_NAME) throw new FormatError(TEXTS.invalidIdentity);
      const id = decodeIdentity(data);
      if (id.version === 'dataless') {
        let made: ReturnType<typeof generate> | undefined;
        wrappers.push({
          kind: 'identity',
          index,
          wrap: async (fk) => {
            made ??= generate(keys, { message: (t) => ui.message(t), requestSecret: (p) => ui.requestSecret(p), confirm: async (q) => (await ui.confirm(q, 'yes', 'no')) === true }, signal ? { signal } : {});
            const r = (await made).recipient;
            if (r.version !== 2) throw new Fido2HmacError('a new credential must give a v2 recipient');
            return wrapV2(fk, r);
          },
        });
      } else if (id.version === 1) {
        wrappers.push({
          kind: 'identity',
          index,
          wrap: (fk) => wrapV1(fk, async (salt) => (await source.hmac(id.credentialId, salt, id.requirePin, 'this identity’s credential')) ?? Promise.reject(absent('this identity’s credential'))),
        });
      } else {
        wrappers.push({
          kind: 'identity',
          index,
          wrap: async (fk) => {
            const secret = await source.hmac(id.credentialId, id.salt, id.requirePin, 'this identity’s credential');
            if (!secret) throw absent('this identity’s credential');
            return wrapX25519(fk, x25519PublicKey(secret));
          },
        });
      }
    } catch (err) {
      errors.push({ kind: 'identity', index, message: (err as Error).message });
    }
  });
  if (errors.length) return { stanzas: [], errors };
  const stanzas: Stanza[][] = [];
  for (const fk of req.fileKeys) {
    const file: Stanza[] = [];
    for (const w of wrappers) {
      try {
        file.push(await w.wrap(fk));
      } catch (err) {
        if (err instanceof TokenError || err instanceof FormatError) {
          return { stanzas: [], errors: [{ kind: w.kind, index: w.index, message: err.message }] };
        }
        throw err;
      }
    }
    stanzas.push(file);
  }
  return { stanzas, errors: [] };
}
