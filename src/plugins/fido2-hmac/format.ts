/**
 * The wraps and unwraps of age-plugin-fido2-hmac's stanzas (the formats are codec.ts's, exported
 * here too): v1 symmetric with the hmac-secret, v2/v3 as a native X25519 / mlkem768x25519 stanza
 * carried in a fido2-hmac one.
 */
import { base64nopad } from '@scure/base';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { unwrapX25519, x25519PublicKey, X25519StanzaError } from '../../age/x25519.ts';
import { wrapX25519 } from '../../age/x25519Wrap.ts';
import type { Stanza } from '../../age/stanza.ts';
import { expandHybridSeed, MLKEM768_X25519 } from '../../age/hybridKem.ts';
import { MLKEM768X25519_TYPE, parseMlkem768X25519, unwrapMlkem768X25519, wrapMlkem768X25519 } from '../../age/mlkem768x25519.ts';
import { carryStanza, FormatError, STANZA_TYPE, type Fido2HmacRecipient, type Fido2HmacStanza } from './codec.ts';

export * from './codec.ts';

/** v1 (symmetric): a fresh salt and nonce per file; the caller gets the hmac for `salt`. */
export async function wrapV1(fileKey: Uint8Array, hmac: (salt: Uint8Array) => Promise<Uint8Array>, withCredential?: { requirePin: boolean; credentialId: Uint8Array }): Promise<Stanza> {
  const salt = randomBytes(32);
  const nonce = randomBytes(12);
  const key = await hmac(salt);
  const body = chacha20poly1305(key, nonce).encrypt(fileKey);
  const args = [base64nopad.encode(salt), base64nopad.encode(nonce)];
  if (withCredential) args.push(withCredential.requirePin ? 'AQ' : 'AA', base64nopad.encode(withCredential.credentialId));
  return { type: STANZA_TYPE, args, body };
}

/** v1: the file key, or null when the hmac output does not open the body. */
export function unwrapV1(stanza: Extract<Fido2HmacStanza, { version: 1 }>, hmacOutput: Uint8Array): Uint8Array | null {
  try {
    return chacha20poly1305(hmacOutput, stanza.nonce).decrypt(stanza.body);
  } catch {
    return null;
  }
}

/**
 * v2/v3 recipients: an X25519 (v2) or mlkem768x25519 (v3) stanza to the recipient's key, carried
 * in a fido2-hmac stanza (version 2 for both, as upstream).
 */
export function wrapV2(fileKey: Uint8Array, r: Exclude<Fido2HmacRecipient, { version: 1 }>): Stanza {
  return carryStanza(r.version === 2 ? wrapX25519(fileKey, r.publicKey) : wrapMlkem768X25519(fileKey, r.publicKey), r);
}

/**
 * v2: the file key from the secret (= hmac output over the salt) — as an X25519 key for a
 * 43-character share, as a hybrid seed for an mlkem768x25519 one — or null.
 */
export async function unwrapV2(share: string, body: Uint8Array, secret: Uint8Array): Promise<Uint8Array | null> {
  if (share.length !== 43) return unwrapHybrid({ type: MLKEM768X25519_TYPE, args: [share], body }, secret);
  try {
    return unwrapX25519(secret, [share], body);
  } catch (err) {
    if (err instanceof X25519StanzaError) throw new FormatError(err.message);
    throw err;
  }
}

/** A native mlkem768x25519 stanza opened with the hybrid key seeded by `secret`, or null. */
export async function unwrapHybrid(stanza: Stanza, secret: Uint8Array): Promise<Uint8Array | null> {
  const parsed = parseMlkem768X25519(stanza);
  if (!parsed) return null;
  if ('malformed' in parsed) throw new FormatError(parsed.malformed);
  return unwrapMlkem768X25519(parsed.ok, expandHybridSeed(MLKEM768_X25519, secret));
}

/** The v3 (post-quantum) recipient of a credential: the hybrid public key seeded by the hmac output. */
export function recipientV3(secret: Uint8Array, requirePin: boolean, salt: Uint8Array, credentialId: Uint8Array): Extract<Fido2HmacRecipient, { version: 3 }> {
  return { version: 3, publicKey: expandHybridSeed(MLKEM768_X25519, secret).publicKey, requirePin, salt, credentialId };
}

/** The v2 recipient of a credential: the X25519 public key of the hmac output. */
export function recipientV2(secret: Uint8Array, requirePin: boolean, salt: Uint8Array, credentialId: Uint8Array): Extract<Fido2HmacRecipient, { version: 2 }> {
  return { version: 2, publicKey: x25519PublicKey(secret), requirePin, salt, credentialId };
}
