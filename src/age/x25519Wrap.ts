/**
 * Wrapping a file key to an X25519 recipient (x25519.ts has the stanza), with the ephemeral key,
 * the ECDH and the seal on node's OpenSSL (ecdh.ts): its own module, so code that only parses or
 * unwraps does not load node:crypto.
 */
import { concatBytes } from '@noble/hashes/utils.js';
import { base64nopad } from '@scure/base';
import { sealWrappedKey, x25519EphemeralEcdh } from './ecdh.ts';
import type { Stanza } from './stanza.ts';
import { X25519_INFO, X25519_TYPE } from './x25519.ts';

/** Wraps a file key to an X25519 public key: the stanza's args (without the type) and body. */
export function wrapX25519(fileKey: Uint8Array, recipient: Uint8Array): Stanza {
  const { publicKey: share, shared } = x25519EphemeralEcdh(recipient);
  const body = sealWrappedKey(fileKey, shared, concatBytes(share, recipient), X25519_INFO);
  return { type: X25519_TYPE, args: [base64nopad.encode(share)], body };
}
