/**
 * The native age X25519 recipient type (C2SP age.md "X25519 recipient stanza"):
 *
 *   -> X25519 <b64 ephemeral share>
 *   body = ChaCha20-Poly1305(key = HKDF-SHA-256(ikm = X25519(e, R), salt = share ‖ R,
 *          info = "age-encryption.org/v1/X25519"), nonce = 0¹², file key)
 *
 * plus the `age1…` / `AGE-SECRET-KEY-1…` encodings. Plugins that end in an ordinary X25519 key
 * (fido2-hmac v2) unwrap with it and wrap with x25519Wrap.ts (node's OpenSSL, loaded only to wrap).
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { base64nopad, bech32 } from '@scure/base';
import type { Stanza } from './stanza.ts';

export const X25519_TYPE = 'X25519';
/** The HKDF info of an X25519 stanza's wrap key. */
export const X25519_INFO = new TextEncoder().encode('age-encryption.org/v1/X25519');

export function x25519PublicKey(secret: Uint8Array): Uint8Array {
  return x25519.getPublicKey(secret);
}

export function x25519RecipientString(publicKey: Uint8Array): string {
  return bech32.encode('age', bech32.toWords(publicKey), false);
}

export function x25519IdentityString(secret: Uint8Array): string {
  return bech32.encode('age-secret-key-', bech32.toWords(secret), false).toUpperCase();
}

function wrapKey(shared: Uint8Array, share: Uint8Array, recipient: Uint8Array): Uint8Array {
  return hkdf(sha256, shared, concatBytes(share, recipient), X25519_INFO, 32);
}

export class X25519StanzaError extends Error {}

/**
 * The file key, or null when the stanza is not for this secret. A malformed stanza (argument
 * count, share encoding, body length) throws `X25519StanzaError`.
 */
export function unwrapX25519(secret: Uint8Array, args: readonly string[], body: Uint8Array): Uint8Array | null {
  if (args.length !== 1) throw new X25519StanzaError('invalid X25519 stanza: expected one argument');
  let share: Uint8Array;
  try {
    share = base64nopad.decode(args[0]!);
  } catch {
    throw new X25519StanzaError('invalid X25519 stanza: the share is not canonical base64');
  }
  if (share.length !== 32 || base64nopad.encode(share) !== args[0]) throw new X25519StanzaError('invalid X25519 stanza: the share is not 32 bytes');
  if (body.length !== 32) throw new X25519StanzaError('invalid X25519 stanza: the body is not 32 bytes');
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(secret, share);
  } catch {
    return null;
  }
  if (shared.every((b) => b === 0)) throw new X25519StanzaError('invalid X25519 stanza: low-order share');
  try {
    return chacha20poly1305(wrapKey(shared, share, x25519.getPublicKey(secret)), new Uint8Array(12)).decrypt(body);
  } catch {
    return null;
  }
}

/** An `X25519` stanza whose recipient's private key lives on a device. */
export interface X25519Stanza {
  share: Uint8Array;
  body: Uint8Array;
}

/** Parses an `X25519` stanza; null when malformed (one canonical 32-byte argument, 32-byte body). */
export function parseX25519(type: string, args: readonly string[], body: Uint8Array): X25519Stanza | null {
  if (type !== X25519_TYPE || args.length !== 1 || args[0]!.length !== 43 || body.length !== 32) return null;
  try {
    const share = base64nopad.decode(args[0]!);
    return share.length === 32 && base64nopad.encode(share) === args[0] ? { share, body } : null;
  } catch {
    return null;
  }
}

/**
 * Opens the stanza for `recipient` (32-byte public key) with the ECDH done elsewhere (a device):
 * `ecdh(share)` returns the 32-byte X25519 output. An all-zero output (low-order share) is
 * refused. Null when the stanza is not for this key (it carries no tag: only the ECDH tells).
 */
export async function unwrapX25519WithEcdh(stanza: X25519Stanza, recipient: Uint8Array, ecdh: (share: Uint8Array) => Promise<Uint8Array>): Promise<Uint8Array | null> {
  const shared = await ecdh(stanza.share);
  if (shared.every((b) => b === 0)) return null;
  try {
    return chacha20poly1305(wrapKey(shared, stanza.share, recipient), new Uint8Array(12)).decrypt(stanza.body);
  } catch {
    return null;
  }
}
