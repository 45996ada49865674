/**
 * Decrypting age's native `X25519` stanza with an X25519 key whose private half may live on a
 * device (C2SP age.md):
 *
 *   -> X25519 <b64 ephemeral share, 32 B>
 *   <b64 ChaCha20-Poly1305(HKDF-SHA256(ikm = shared, salt = share ‖ recipient, "age-encryption.org/v1/X25519"))(file key)>
 *
 * The stanza carries no tag: whether it is for a key is only known after the ECDH.
 */
import { base64nopad } from '@scure/base';
import { concatBytes } from '@noble/hashes/utils.js';
import { openFileKey } from './dhWrap.ts';

export const X25519_TYPE = 'X25519';
const INFO = 'age-encryption.org/v1/X25519';

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
 * Opens the stanza for `recipient` (32-byte public key). `ecdh(share)` returns the 32-byte X25519
 * output (on a device: its ECDH). An all-zero output (low-order share) is refused. Null when the
 * stanza is not for this key.
 */
export async function unwrapX25519(stanza: X25519Stanza, recipient: Uint8Array, ecdh: (share: Uint8Array) => Promise<Uint8Array>): Promise<Uint8Array | null> {
  const shared = await ecdh(stanza.share);
  if (shared.every((b) => b === 0)) return null;
  return openFileKey(stanza.body, shared, concatBytes(stanza.share, recipient), INFO);
}
