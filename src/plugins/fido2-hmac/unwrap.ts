/**
 * identity-v1 for fido2-hmac: which stanza goes with which identity, as v0.4.0 decides it.
 *
 * - a stanza that carries its credential (v1 with 4 arguments, every v2 stanza) is opened with
 *   the data-less identities (`age -j fido2-hmac`, the magic identity) or an identity of the
 *   same credential;
 * - a v1 stanza with 2 arguments (encrypted to a v1 identity) needs that identity's credential
 *   and PIN flag;
 * - a native X25519 stanza (encrypted to the `age1…` of a separate v2 identity) is opened with
 *   the X25519 key that the v2 identity's hmac-secret is.
 *
 * Keys are found silently; a credential no plugged-in key holds is asked for or skipped, and if
 * skipped the stanza is simply not opened (so other identities can be tried).
 */
import type { IdentityV1Error } from '../../age/plugin/server.ts';
import type { Stanza } from '../../age/stanza.ts';
import { X25519_TYPE, unwrapX25519, X25519StanzaError } from '../../age/x25519.ts';
import { MLKEM768X25519_TYPE } from '../../age/mlkem768x25519.ts';
import type { Decoded } from '../../age/plugin/v1.ts';
import { TEXTS } from './texts.ts';
import { FormatError, PLUGIN_NAME, STANZA_TYPE, decodeIdentity, parseStanza, unwrapHybrid, unwrapV1, unwrapV2, type Fido2HmacIdentity, type Fido2HmacStanza } from './format.ts';
import { TokenError } from '../../tokens/errors.ts';
import { HmacSource } from './token.ts';

export interface UnwrapResult {
  fileKeys: Map<number, Uint8Array>;
  errors: IdentityV1Error[];
}

type Attempt = () => Promise<Uint8Array | null>;

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

export async function unwrapFiles(decoded: readonly Decoded[], files: readonly Stanza[][], source: HmacSource): Promise<UnwrapResult> {
  const result: UnwrapResult = { fileKeys: new Map(), errors: [] };
  const identities: { index: number; id: Fido2HmacIdentity }[] = [];
  for (const d of decoded) {
    try {
      if (d.plugin !== PLUGIN_NAME) throw new FormatError(TEXTS.invalidIdentity);
      identities.push({ index: d.index, id: decodeIdentity(d.data) });
    } catch (err) {
      result.errors.push({ kind: 'identity', index: d.index, message: (err as Error).message });
    }
  }
  if (result.errors.length) return result;

  for (const [fileIndex, stanzas] of files.entries()) {
    const attempts: { identity: number; run: Attempt }[] = [];
    let malformed = false;
    for (const [stanzaIndex, st] of stanzas.entries()) {
      if (st.type === STANZA_TYPE) {
        let parsed: Fido2HmacStanza;
        try {
          parsed = parseStanza(st.args, st.body);
        } catch (err) {
          if (!(err instanceof FormatError)) throw err;
          result.errors.push({ kind: 'stanza', file: fileIndex, index: stanzaIndex, message: err.message });
          malformed = true;
          break;
        }
        attempts.push(...stanzaAttempts(parsed, identities, source));
      } else if (st.type === X25519_TYPE || st.type === MLKEM768X25519_TYPE) {
        // A separate v2 identity's key is a native one: X25519, or the hybrid key of its v3 recipient.
        for (const { index, id } of identities) {
          if (id.version !== 2) continue;
          attempts.push({
            identity: index,
            run: async () => {
              const secret = await source.hmac(id.credentialId, id.salt, id.requirePin, 'this identity’s credential');
              if (!secret) return null;
              try {
                return st.type === X25519_TYPE ? unwrapX25519(secret, st.args, st.body) : await unwrapHybrid(st, secret);
              } catch (err) {
                if (err instanceof X25519StanzaError || err instanceof FormatError) return null; // not ours to judge: a native stanza
                throw err;
              }
            },
          });
        }
      }
    }
    if (malformed) continue;
    for (const a of attempts) {
      let key: Uint8Array | null;
      try {
        key = await a.run();
      } catch (err) {
        if (err instanceof TokenError || err instanceof FormatError) {
          result.errors.push({ kind: 'identity', index: a.identity, message: err.message });
          return result;
        }
        throw err;
      }
      if (key) {
        result.fileKeys.set(fileIndex, key);
        break;
      }
    }
  }
  return result;
}

function stanzaAttempts(s: Fido2HmacStanza, identities: readonly { index: number; id: Fido2HmacIdentity }[], source: HmacSource): { identity: number; run: Attempt }[] {
  const out: { identity: number; run: Attempt }[] = [];
  if (s.version === 1 && !s.credentialId) {
    // Encrypted to a v1 identity: its credential and PIN flag.
    for (const { index, id } of identities) {
      if (id.version !== 1) continue;
      out.push({
        identity: index,
        run: async () => {
          const h = await source.hmac(id.credentialId, s.salt, id.requirePin, 'this identity’s credential');
          return h && unwrapV1(s, h);
        },
      });
    }
    return out;
  }
  const credentialId = s.credentialId!;
  const requirePin = s.requirePin ?? false;
  const usable = identities.find(({ id }) => id.version === 'dataless' || same(id.credentialId, credentialId));
  if (!usable) return out;
  out.push({
    identity: usable.index,
    run: async () => {
      const h = await source.hmac(credentialId, s.salt, requirePin, 'the credential of this file');
      if (!h) return null;
      return s.version === 1 ? unwrapV1(s, h) : unwrapV2(s.share, s.body, h);
    },
  });
  return out;
}
