/**
 * The `picohsm` stanza of pinpox/age-plugin-picohsm:
 *
 *   -> picohsm <b64 ephemeral point, 65 B uncompressed> [<b64 fingerprint, 8 B>]
 *   <b64 ChaCha20-Poly1305(HKDF-SHA256(ikm = ECDH x, salt = eph ‖ recipient (both 65 B),
 *        info "age-encryption.org/v1/picohsm-p256"), nonce 0)(file key)>
 *
 * The fingerprint (SHA-256(recipient)[0..8]) was added later; stanzas with only the ephemeral
 * point are read too. Wrapping is pure; unwrapping takes the ECDH as a function, since the
 * recipient's scalar lives on the device.
 */
import { concatBytes } from '@noble/hashes/utils.js';
import { base64nopad } from '@scure/base';
import { openFileKey, sealFileKey } from '../../age/dhWrap.ts';
import { p256EphemeralEcdh } from '../../age/ecdh.ts';
import { PicoHsmError } from './errors.ts';
import { checkUncompressedP256, fingerprint } from './recipient.ts';

export const PICOHSM_TYPE = 'picohsm';
export const PICOHSM_INFO = 'age-encryption.org/v1/picohsm-p256';

export interface StanzaParts {
  type: string;
  args: string[];
  body: Uint8Array;
}

export interface PicoHsmStanza {
  ephemeral: Uint8Array;
  /** null in the one-argument form. */
  fingerprint: Uint8Array | null;
  body: Uint8Array;
}

/** Wraps a 16-byte file key to a 65-byte recipient point. `ephemeralScalar` is for test vectors only. */
export function wrapPicoHsm(fileKey: Uint8Array, recipient: Uint8Array, ephemeralScalar?: Uint8Array): StanzaParts {
  checkUncompressedP256(recipient);
  const { publicKey: eph, shared } = p256EphemeralEcdh(recipient, false, ephemeralScalar);
  const body = sealFileKey(fileKey, shared, concatBytes(eph, recipient), PICOHSM_INFO);
  return { type: PICOHSM_TYPE, args: [base64nopad.encode(eph), base64nopad.encode(fingerprint(recipient))], body };
}

function decodeCanonical(s: string, bytes: number, what: string): Uint8Array {
  let out: Uint8Array | null = null;
  if (s.length === Math.ceil((4 * bytes) / 3)) {
    try {
      out = base64nopad.decode(s);
    } catch {
      out = null;
    }
  }
  if (!out || out.length !== bytes || base64nopad.encode(out) !== s) throw new PicoHsmError('INVALID_STANZA', `invalid picohsm stanza: ${what} is not ${bytes} bytes of canonical base64`);
  return out;
}

/**
 * Parses a stanza of type `picohsm`; null for other types. A malformed `picohsm` stanza (not one
 * or two arguments, bad base64, a bad point, a body other than 32 bytes) throws.
 */
export function parsePicoHsm(s: StanzaParts): PicoHsmStanza | null {
  if (s.type !== PICOHSM_TYPE) return null;
  if (s.args.length !== 1 && s.args.length !== 2) throw new PicoHsmError('INVALID_STANZA', 'invalid picohsm stanza: expected 1 or 2 arguments');
  const ephemeral = decodeCanonical(s.args[0]!, 65, 'the ephemeral public key');
  try {
    checkUncompressedP256(ephemeral);
  } catch (cause) {
    throw new PicoHsmError('INVALID_STANZA', 'invalid picohsm stanza: the ephemeral key is not a valid uncompressed P-256 point', { cause });
  }
  const fp = s.args.length === 2 ? decodeCanonical(s.args[1]!, 8, 'the fingerprint') : null;
  if (s.body.length !== 32) throw new PicoHsmError('INVALID_STANZA', 'invalid picohsm stanza: invalid ciphertext size');
  return { ephemeral, fingerprint: fp, body: s.body };
}

/** Whether the stanza may be for `recipient`: fingerprints equal, or no fingerprint at all. */
export function picoHsmMatches(stanza: PicoHsmStanza, recipient: Uint8Array): boolean {
  if (!stanza.fingerprint) return true;
  const fp = fingerprint(recipient);
  let diff = 0;
  for (let i = 0; i < 8; i++) diff |= fp[i]! ^ stanza.fingerprint[i]!;
  return diff === 0;
}

/**
 * Opens the stanza. `ecdh(ephemeral)` returns the 32-byte shared x-coordinate (on the device:
 * `80 62 <id> 80` without its leading 04). Null when the body does not open (not this key).
 */
export async function unwrapPicoHsm(stanza: PicoHsmStanza, recipient: Uint8Array, ecdh: (peer: Uint8Array) => Promise<Uint8Array>): Promise<Uint8Array | null> {
  const shared = await ecdh(stanza.ephemeral);
  return openFileKey(stanza.body, shared, concatBytes(stanza.ephemeral, recipient), PICOHSM_INFO);
}
