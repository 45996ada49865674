/**
 * age-plugin-fido2prf as a kit family: identity-v1 decrypts `age-encryption.org/fido2prf`
 * stanzas, recipient-v1 encrypts to identities (`age -e -i identity.txt`: symmetric, the key is
 * needed; there are no recipients). The PRF of a credential is the two hmac-secret salts of a
 * stanza nonce, always with user verification (the kit's PIN loop) as WebAuthn PRF asks. A
 * "device" is whichever plugged-in key holds the credential, found by a silent probe; an absent
 * one is asked for or skipped when decrypting (then the identity does not match, so age tries the
 * next one), and fails at once when encrypting. Stanzas carry no tag: each identity tries each.
 */
import { credentialAccess, credentialHmac, credentialRef, type AuthenticatorSet, type LocatedCredential } from '../../tokens/ctap2/authenticators.ts';
import { Ctap2Error, Fido2PluginError } from '../../tokens/ctap2/errors.ts';
import { NOT_FOR_THIS, type TokenContext, type TokenFamily } from '../kit/family.ts';
import { FormatError, PLUGIN_NAME, STANZA_TYPE, decodeIdentity, hmacSalts, parseStanzaNonce, unwrap, wrap, type Fido2PrfIdentity } from './format.ts';
import { T, TEXTS } from './texts.ts';

export const SKIP_ENV = 'AGE_PLUGIN_FIDO2PRF_SKIP_NOT_FOUND';

export const fido2PrfError = (message: string) => new Fido2PluginError('FIDO2PRF', message);

export interface PrfStanza {
  readonly nonce: Uint8Array;
  readonly body: Uint8Array;
}

export type PrfFamily = TokenFamily<Fido2PrfIdentity, PrfStanza, Fido2PrfIdentity, LocatedCredential>;

export function fido2PrfFamily(o: { keys: AuthenticatorSet; signal?: AbortSignal; closeKeys?: boolean }): PrfFamily {
  /** The two PRF outputs of the credential for `nonce`. */
  const outputs = async (c: LocatedCredential, nonce: Uint8Array, ctx: TokenContext): Promise<[Uint8Array, Uint8Array]> => {
    if (!c.authenticator.session.pinSet) throw new Ctap2Error('PIN_NOT_SET', T.noPinSet(c.authenticator.name));
    const [o1, o2] = await credentialHmac(c, hmacSalts(nonce), true, ctx, o.signal);
    return [o1!, o2!];
  };
  return {
    name: PLUGIN_NAME,
    texts: TEXTS,
    skipNotFoundEnv: SKIP_ENV,
    sharedStanzas: true,
    wrapFailsAbsent: true,
    parseRecipient: () => {
      throw new Error(TEXTS.invalidRecipient);
    },
    parseIdentity: decodeIdentity,
    describeInvalid: (e) => (e instanceof FormatError ? e.message : undefined),
    describeError: (e) => (e instanceof Error ? e.message : undefined),
    recipientOf: async (id) => id,
    async wrap(fileKey, id, ctx) {
      const ref = credentialRef(id.rpId, id.credentialId, T.credential(id.rpId));
      const c = await ctx.open(ref);
      if (!c) throw fido2PrfError('no key');
      return [await wrap(fileKey, (_salts, nonce) => outputs(c, nonce, ctx.context(c.ref)))];
    },
    parseStanza(st) {
      if (st.type !== STANZA_TYPE) return null;
      const nonce = parseStanzaNonce(st.args);
      if (st.body.length !== 32) throw new FormatError('fido2prf: invalid stanza body');
      return { nonce, body: st.body };
    },
    matches: () => true,
    deviceOf: (id) => credentialRef(id.rpId, id.credentialId, T.credential(id.rpId)),
    devices: () => credentialAccess(o.keys, o.closeKeys ? { closeKeys: true } : {}),
    async unwrap(c, _id, stanzas, ctx) {
      const keys: Array<Uint8Array | typeof NOT_FOR_THIS> = [];
      for (const st of stanzas) {
        const [o1, o2] = await outputs(c, st.nonce, ctx);
        keys.push(unwrap(st.body, o1, o2) ?? NOT_FOR_THIS);
      }
      return keys;
    },
  };
}
