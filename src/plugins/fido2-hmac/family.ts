/**
 * age-plugin-fido2-hmac as a kit family, deciding as v0.4.0 which stanza goes with which identity:
 *
 * - a stanza that carries its credential (v1 with 4 arguments, every v2 stanza) is opened with
 *   the data-less identities (`age -j fido2-hmac`, the magic identity) or an identity of the
 *   same credential; the device is the key holding the stanza's credential (`deviceFor`);
 * - a v1 stanza with 2 arguments (encrypted to a v1 identity) needs that identity's credential
 *   and PIN flag;
 * - a native X25519 / mlkem768x25519 stanza (encrypted to the `age1…` of a separate v2 identity)
 *   is opened with the key that the v2 identity's hmac-secret is.
 *
 * A "device" is whichever plugged-in key holds a credential, found by a silent probe (so only
 * that key is touched); the kit asks for an absent one, skips it or fails without a terminal.
 * Stanzas carry no tag an identity could be matched by without the key (`sharedStanzas`); a
 * stanza that does not open is not this identity's (silence, so other identities are tried).
 *
 * recipient-v1: v2/v3 recipients wrap without the key; v1 recipients and v1 identities
 * (`age -e -i`) need the key for every file (a fresh salt each time); a v2 identity used as a
 * recipient wraps a native X25519 stanza to its key (mlkem768x25519 with FIDO2_HMAC_PQ=1); the data-less identity (`age -e -j
 * fido2-hmac`) makes a new credential on the fly and wraps to it.
 */
import type { Stanza } from '../../age/stanza.ts';
import { X25519_TYPE, x25519PublicKey, X25519StanzaError, unwrapX25519 } from '../../age/x25519.ts';
import { credentialAccess, credentialHmac, credentialRef, type AuthenticatorSet, type LocatedCredential } from '../../tokens/ctap2/authenticators.ts';
import { Fido2PluginError } from '../../tokens/ctap2/errors.ts';
import { NOT_FOR_THIS, type TokenContext, type TokenFamily, type WrapContext } from '../kit/family.ts';
import {
  carryStanza,
  FormatError,
  MLKEM768X25519_STANZA,
  PLUGIN_NAME,
  RP_ID,
  STANZA_TYPE,
  decodeIdentity,
  decodeRecipient,
  parseStanza,
  type Fido2HmacIdentity,
  type Fido2HmacRecipient,
  type Fido2HmacStanza,
} from './codec.ts';
import { TEXTS, T } from './texts.ts';

export const SKIP_ENV = 'AGE_PLUGIN_FIDO2_HMAC_SKIP_NOT_FOUND';

/** A failure of this family that is not a CTAP status (an absent key when encrypting …). */
export const fido2HmacError = (message: string) => new Fido2PluginError('FIDO2_HMAC', message);

/** A stanza of this family: a `fido2-hmac` stanza, or a native one a separate v2 identity may open. */
export type HmacStanza = Fido2HmacStanza | { readonly version: 'native'; readonly stanza: Stanza };

/** What recipient-v1 wraps to: a recipient, or an identity used as one. */
export type HmacRecipient = Fido2HmacRecipient | { readonly version: 'identity-v1'; readonly identity: Extract<Fido2HmacIdentity, { version: 1 }> } | { readonly version: 'x25519' | 'hybrid'; readonly publicKey: Uint8Array };

const THIS_IDENTITY = 'this identity’s credential';
const THIS_FILE = 'the credential of this file';
const THIS_RECIPIENT = 'the credential of this recipient';

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const carried = (s: HmacStanza) => (s.version === 2 || (s.version === 1 && s.credentialId) ? s : null);

export interface HmacFamilyOptions {
  readonly keys: AuthenticatorSet;
  /** Cancels a pending touch (CTAPHID_CANCEL). */
  readonly signal?: AbortSignal;
  /** The keys are the family's: closed when the run releases its devices. */
  readonly closeKeys?: boolean;
  /** `age -e -i` with a v2 identity writes a post-quantum mlkem768x25519 stanza (FIDO2_HMAC_PQ) instead of X25519. */
  readonly pq?: boolean;
}

export type HmacFamily = TokenFamily<Fido2HmacIdentity, HmacStanza, HmacRecipient, LocatedCredential>;

/**
 * The code that wraps, unwraps and makes post-quantum keys, loaded on first use: a plugin run that
 * only parses (identity-v1 up to the first key access) does without node:crypto and the
 * post-quantum modules, a wrap to an X25519 recipient without the latter.
 */
const wraps = () => import('./format.ts');
const x25519Wrap = () => import('../../age/x25519Wrap.ts');
const hybridKem = () => import('../../age/hybridKem.ts');
const mlkem768x25519 = () => import('../../age/mlkem768x25519.ts');

export function fido2HmacFamily(o: HmacFamilyOptions): HmacFamily {
  const hmac = async (c: LocatedCredential, salt: Uint8Array, requirePin: boolean, ctx: TokenContext) => (await credentialHmac(c, [salt], requirePin, ctx, o.signal))[0]!;
  /** The hmac-secret of a credential for a wrap: the key must be there. */
  const wrapHmac = async (ctx: WrapContext<LocatedCredential>, credentialId: Uint8Array, salt: Uint8Array, requirePin: boolean, what: string) => {
    const c = await ctx.open(credentialRef(RP_ID, credentialId, what));
    if (!c) throw fido2HmacError(`no plugged-in FIDO2 key holds ${what}`);
    return hmac(c, salt, requirePin, ctx.context(c.ref));
  };
  return {
    name: PLUGIN_NAME,
    texts: TEXTS,
    skipNotFoundEnv: SKIP_ENV,
    sharedStanzas: true,
    parseRecipient: decodeRecipient,
    parseIdentity: decodeIdentity,
    describeInvalid: (e) => (e instanceof FormatError ? e.message : undefined),
    describeError: (e) => (e instanceof Error ? e.message : undefined),

    async recipientOf(id, _devices, _log, ctx) {
      if (id.version === 'dataless') {
        const ui = ctx.ui;
        const { generate } = await import('./generate.ts');
        const made = await generate(o.keys, { message: (t) => ui.message(t), requestSecret: (p) => ui.requestSecret(p), confirm: async (q) => (await ui.confirm(q, T.yes, T.no)) === true }, o.signal ? { signal: o.signal } : {});
        if (made.recipient.version !== 2) throw fido2HmacError('a new credential must give a v2 recipient');
        return made.recipient;
      }
      if (id.version === 1) return { version: 'identity-v1', identity: id };
      const secret = await wrapHmac(ctx, id.credentialId, id.salt, id.requirePin, THIS_IDENTITY);
      if (!o.pq) return { version: 'x25519', publicKey: x25519PublicKey(secret) };
      const { expandHybridSeed, MLKEM768_X25519 } = await hybridKem();
      return { version: 'hybrid', publicKey: expandHybridSeed(MLKEM768_X25519, secret).publicKey };
    },
    async wrap(fileKey, r, ctx) {
      switch (r.version) {
        case 'x25519':
          return [(await x25519Wrap()).wrapX25519(fileKey, r.publicKey)];
        case 'hybrid':
          return [(await mlkem768x25519()).wrapMlkem768X25519(fileKey, r.publicKey)];
        case 'identity-v1':
          return [await (await wraps()).wrapV1(fileKey, (salt) => wrapHmac(ctx, r.identity.credentialId, salt, r.identity.requirePin, THIS_IDENTITY))];
        case 1:
          return [await (await wraps()).wrapV1(fileKey, (salt) => wrapHmac(ctx, r.credentialId, salt, r.requirePin, THIS_RECIPIENT), { requirePin: r.requirePin, credentialId: r.credentialId })];
        default:
          // a v2 recipient's wrap without the post-quantum code (a v3 one needs it)
          return [r.version === 2 ? carryStanza((await x25519Wrap()).wrapX25519(fileKey, r.publicKey), r) : (await wraps()).wrapV2(fileKey, r)];
      }
    },

    parseStanza(st) {
      if (st.type === STANZA_TYPE) return parseStanza(st.args, st.body);
      // A separate v2 identity's key is a native one: X25519, or the hybrid key of its v3 recipient.
      if (st.type === X25519_TYPE || st.type === MLKEM768X25519_STANZA) return { version: 'native', stanza: st };
      return null;
    },
    matches(id, s) {
      if (s.version === 'native') return id.version === 2;
      const c = carried(s);
      if (!c) return id.version === 1;
      return id.version === 'dataless' || same(id.credentialId, c.credentialId!);
    },
    deviceOf: (id) => (id.version === 'dataless' ? { key: '', label: THIS_FILE } : credentialRef(RP_ID, id.credentialId, THIS_IDENTITY)),
    deviceFor(id, s) {
      const c = carried(s);
      return c ? credentialRef(RP_ID, c.credentialId!, THIS_FILE) : this.deviceOf(id);
    },
    devices: () => credentialAccess(o.keys, o.closeKeys ? { closeKeys: true } : {}),

    async unwrap(c, id, stanzas, ctx) {
      const out: Array<Uint8Array | typeof NOT_FOR_THIS> = [];
      for (const s of stanzas) out.push((await unwrapOne(c, id, s, ctx)) ?? NOT_FOR_THIS);
      return out;
    },
  };

  async function unwrapOne(c: LocatedCredential, id: Fido2HmacIdentity, s: HmacStanza, ctx: TokenContext): Promise<Uint8Array | null> {
    if (s.version === 'native') {
      if (id.version !== 2) return null;
      const secret = await hmac(c, id.salt, id.requirePin, ctx);
      try {
        return s.stanza.type === X25519_TYPE ? unwrapX25519(secret, s.stanza.args, s.stanza.body) : await (await wraps()).unwrapHybrid(s.stanza, secret);
      } catch (err) {
        if (err instanceof X25519StanzaError || err instanceof FormatError) return null; // not ours to judge: a native stanza
        throw err;
      }
    }
    if (!carried(s)) {
      // Encrypted to a v1 identity: its credential and PIN flag.
      if (id.version !== 1 || s.version !== 1) return null;
      const h = await hmac(c, s.salt, id.requirePin, ctx);
      return (await wraps()).unwrapV1(s, h);
    }
    const h = await hmac(c, s.salt, s.requirePin ?? false, ctx);
    const { unwrapV1, unwrapV2 } = await wraps();
    return s.version === 1 ? unwrapV1(s, h) : unwrapV2(s.share, s.body, h);
  }
}
