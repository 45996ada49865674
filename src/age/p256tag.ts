/**
 * Decrypting the native `p256tag` stanza (C2SP age.md) with a P-256 key whose scalar may live on a
 * card:
 *
 *   -> p256tag <b64 tag, 4 B> <b64 enc, 65 B uncompressed>
 *   <b64 ChaCha20-Poly1305(HPKE base(DHKEM(P-256), info "age-encryption.org/p256tag"))(file key)>
 *
 * tag = HKDF-Extract(salt = "age-encryption.org/p256tag", ikm = enc ‖ SHA-256(compressed pk)[:4])[:4],
 * so a candidate key is checked without any card operation. Encrypting to `age1tag1…` is done by
 * typage's `TagRecipient`.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { base64nopad } from '@scure/base';
import { hkdfExtractSha256, sha256 } from '../openssl.ts';
import { isP256Point, uncompressP256 } from './p256.ts';
import { dhkemP256SharedSecret, hpkeBaseContext, KEM_DHKEM_P256_HKDF_SHA256 } from './hpke.ts';

export const P256TAG_TYPE = 'p256tag';
const LABEL = new TextEncoder().encode('age-encryption.org/p256tag');

export interface P256TagStanza {
  tag: Uint8Array;
  /** Encapsulated key: 65-byte uncompressed P-256 point. */
  enc: Uint8Array;
  body: Uint8Array;
}

/** Parses the arguments and body of a `p256tag` stanza; null when malformed. */
export function parseP256Tag(type: string, args: string[], body: Uint8Array): P256TagStanza | null {
  if (type !== P256TAG_TYPE || args.length !== 2 || body.length !== 32) return null;
  if (args[0]!.length !== 6 || args[1]!.length !== 87) return null;
  try {
    const tag = base64nopad.decode(args[0]!);
    const enc = base64nopad.decode(args[1]!);
    if (tag.length !== 4 || enc.length !== 65 || enc[0] !== 4) return null;
    if (!isP256Point(enc)) return null;
    return { tag, enc, body };
  } catch {
    return null;
  }
}

/**
 * Whether the stanza's tag was computed for a key whose recipient tag (SHA-256 of the
 * compressed point, first 4 bytes: what identity stubs store) is `recipientTag`.
 */
export function p256TagMatchesRecipientTag(stanza: P256TagStanza, recipientTag: Uint8Array): boolean {
  if (recipientTag.length !== 4) return false;
  const ikm = new Uint8Array(69);
  ikm.set(stanza.enc, 0);
  ikm.set(recipientTag, 65);
  // before any card operation: OpenSSL's HMAC (src/openssl.ts, which the point check uses too)
  const t = hkdfExtractSha256(LABEL, ikm).subarray(0, 4);
  return t.every((v, i) => v === stanza.tag[i]);
}

/** Whether the stanza's tag was computed for this compressed public key. */
export function p256TagMatches(stanza: P256TagStanza, compressedPk: Uint8Array): boolean {
  return p256TagMatchesRecipientTag(stanza, sha256(compressedPk).subarray(0, 4));
}

/**
 * Opens the stanza. `ecdh(enc)` returns the 32-byte shared x-coordinate (on a card: PIV GENERAL
 * AUTHENTICATE). Returns null when the AEAD does not open.
 */
export async function unwrapP256Tag(
  stanza: P256TagStanza,
  compressedPk: Uint8Array,
  ecdh: (peerUncompressed: Uint8Array) => Promise<Uint8Array>,
): Promise<Uint8Array | null> {
  const dh = await ecdh(stanza.enc);
  const pkFull = uncompressP256(compressedPk);
  const shared = dhkemP256SharedSecret(dh, stanza.enc, pkFull);
  const { key, nonce } = hpkeBaseContext(KEM_DHKEM_P256_HKDF_SHA256, shared, LABEL);
  try {
    return chacha20poly1305(key, nonce).decrypt(stanza.body);
  } catch {
    return null;
  }
}
