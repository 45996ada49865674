/**
 * The fido2prf formats of typage (FiloSottile/typage lib/webauthn.ts, lib/cbor.ts; the Go
 * plugin fido2prf/fido2prf.go):
 *
 *   identity  AGE-PLUGIN-FIDO2PRF-1… over a CBOR sequence (no enclosing array):
 *             uint 1 ‖ bstr credentialId ‖ tstr rpId ‖ array of tstr transports
 *             in typage's CBOR subset (major types 0, 2, 3, 4; arguments < 24 or 1–2 bytes)
 *   stanza    -> age-encryption.org/fido2prf <b64 nonce(16)>   body(32)
 *   PRF       inputs "age-encryption.org/fido2prf" ‖ 0x01|0x02 ‖ nonce; over CTAP each becomes
 *             the hmac-secret salt SHA-256("WebAuthn PRF" ‖ 0x00 ‖ input)
 *   key       HKDF-Extract(SHA-256, salt = "age-encryption.org/fido2prf", IKM = out1 ‖ out2)
 *   body      ChaCha20-Poly1305(key, nonce = 0¹²).seal(fileKey)
 *
 * Symmetric only: there is no recipient; a file is encrypted "to the identity" with the key.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes } from '@noble/hashes/utils.js';
import { base64nopad } from '@scure/base';
import { decodePluginIdentity, encodePluginIdentity } from '../../age/bech32.ts';
import type { Stanza } from '../../age/stanza.ts';

export const PLUGIN_NAME = 'fido2prf';
export const STANZA_TYPE = 'age-encryption.org/fido2prf';
const LABEL = new TextEncoder().encode('age-encryption.org/fido2prf');

export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatError';
  }
}

export interface Fido2PrfIdentity {
  readonly credentialId: Uint8Array;
  readonly rpId: string;
  readonly transports: readonly string[];
}

// --- typage's CBOR subset --------------------------------------------------------------------

function head(major: number, n: number): Uint8Array {
  if (n < 24) return new Uint8Array([(major << 5) | n]);
  if (n <= 0xff) return new Uint8Array([(major << 5) | 24, n]);
  if (n <= 0xffff) return new Uint8Array([(major << 5) | 25, n >> 8, n & 0xff]);
  throw new FormatError('fido2prf identity: a field is longer than 65535 bytes');
}

class Reader {
  constructor(private b: Uint8Array) {}
  get rest(): Uint8Array {
    return this.b;
  }
  private head(expected: number, what: string): number {
    if (this.b.length === 0) throw new FormatError('malformed fido2prf identity: unexpected end');
    const major = this.b[0]! >> 5;
    const minor = this.b[0]! & 0x1f;
    if (major !== expected) throw new FormatError(`malformed fido2prf identity: expected ${what}`);
    let n: number;
    let used: number;
    if (minor < 24) [n, used] = [minor, 1];
    else if (minor === 24 && this.b.length >= 2) [n, used] = [this.b[1]!, 2];
    else if (minor === 25 && this.b.length >= 3) [n, used] = [(this.b[1]! << 8) | this.b[2]!, 3];
    else throw new FormatError('malformed fido2prf identity: unsupported CBOR argument');
    this.b = this.b.subarray(used);
    return n;
  }
  uint(): number {
    return this.head(0, 'an unsigned integer');
  }
  bytes(major = 2, what = 'a byte string'): Uint8Array {
    const n = this.head(major, what);
    if (n > this.b.length) throw new FormatError('malformed fido2prf identity: unexpected end');
    const out = this.b.slice(0, n);
    this.b = this.b.subarray(n);
    return out;
  }
  text(): string {
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(this.bytes(3, 'a text string'));
    } catch (err) {
      if (err instanceof FormatError) throw err;
      throw new FormatError('malformed fido2prf identity: text is not UTF-8');
    }
  }
  texts(): string[] {
    const n = this.head(4, 'an array');
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.text());
    return out;
  }
}

export function encodeIdentity(id: Fido2PrfIdentity): Uint8Array {
  const enc = new TextEncoder();
  const text = (s: string) => {
    const b = enc.encode(s);
    return concatBytes(head(3, b.length), b);
  };
  return concatBytes(head(0, 1), head(2, id.credentialId.length), id.credentialId, text(id.rpId), head(4, id.transports.length), ...id.transports.map(text));
}

/** Strict like the Go plugin: version 1 and nothing after the transports. */
export function decodeIdentity(b: Uint8Array): Fido2PrfIdentity {
  const r = new Reader(b);
  const version = r.uint();
  if (version !== 1) throw new FormatError(`unsupported fido2prf version ${version}`);
  const credentialId = r.bytes();
  if (credentialId.length === 0) throw new FormatError('malformed fido2prf identity: empty credential id');
  const rpId = r.text();
  if (rpId.length === 0 || rpId.length > 253) throw new FormatError('malformed fido2prf identity: bad relying party id');
  const transports = r.texts();
  if (r.rest.length) throw new FormatError('malformed fido2prf identity: trailing data');
  return { credentialId, rpId, transports };
}

export function identityString(id: Fido2PrfIdentity): string {
  return encodePluginIdentity(PLUGIN_NAME, encodeIdentity(id));
}

export function parseIdentityString(s: string): Fido2PrfIdentity {
  let d: { name: string; data: Uint8Array };
  try {
    d = decodePluginIdentity(s);
  } catch (err) {
    throw new FormatError(`malformed fido2prf identity: ${(err as Error).message.slice(0, 80)}`);
  }
  if (d.name !== PLUGIN_NAME) throw new FormatError(`malformed fido2prf identity: invalid type age-plugin-${d.name.slice(0, 40)}-`);
  return decodeIdentity(d.data);
}

// --- PRF, salts, key --------------------------------------------------------------------------

/** The two WebAuthn PRF inputs for a stanza nonce. */
export function prfInputs(nonce: Uint8Array): [Uint8Array, Uint8Array] {
  return [concatBytes(LABEL, new Uint8Array([1]), nonce), concatBytes(LABEL, new Uint8Array([2]), nonce)];
}

/** WebAuthn PRF → CTAP hmac-secret: salt = SHA-256("WebAuthn PRF" ‖ 0x00 ‖ input). */
export function prfSalt(input: Uint8Array): Uint8Array {
  return sha256(concatBytes(new TextEncoder().encode('WebAuthn PRF'), new Uint8Array([0]), input));
}

export function hmacSalts(nonce: Uint8Array): [Uint8Array, Uint8Array] {
  const [a, b] = prfInputs(nonce);
  return [prfSalt(a), prfSalt(b)];
}

export function deriveKey(out1: Uint8Array, out2: Uint8Array): Uint8Array {
  return extract(sha256, concatBytes(out1, out2), LABEL);
}

// --- stanzas -----------------------------------------------------------------------------------

/** The 16-byte nonce of a fido2prf stanza (arguments after the type). */
export function parseStanzaNonce(args: readonly string[]): Uint8Array {
  if (args.length !== 1) throw new FormatError('fido2prf: invalid stanza: expected 1 argument');
  let nonce: Uint8Array;
  try {
    nonce = base64nopad.decode(args[0]!);
  } catch {
    throw new FormatError('fido2prf: invalid nonce');
  }
  if (nonce.length !== 16 || base64nopad.encode(nonce) !== args[0]) throw new FormatError('fido2prf: invalid nonce');
  return nonce;
}

/** Wraps a file key with a fresh nonce; `outputs(salts, nonce)` runs the hmac-secret assertion for its two salts. */
export async function wrap(fileKey: Uint8Array, outputs: (salts: [Uint8Array, Uint8Array], nonce: Uint8Array) => Promise<[Uint8Array, Uint8Array]>): Promise<Stanza> {
  const nonce = randomBytes(16);
  const [o1, o2] = await outputs(hmacSalts(nonce), nonce);
  const body = chacha20poly1305(deriveKey(o1, o2), new Uint8Array(12)).encrypt(fileKey);
  return { type: STANZA_TYPE, args: [base64nopad.encode(nonce)], body };
}

/** The file key, or null when the outputs do not open the body (another credential). */
export function unwrap(body: Uint8Array, out1: Uint8Array, out2: Uint8Array): Uint8Array | null {
  if (body.length !== 32) throw new FormatError('fido2prf: invalid stanza body');
  try {
    return chacha20poly1305(deriveKey(out1, out2), new Uint8Array(12)).decrypt(body);
  } catch {
    return null;
  }
}
