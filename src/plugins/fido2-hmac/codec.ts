/**
 * The formats of age-plugin-fido2-hmac (olastor) as v0.4.0 reads and writes them
 * (pkg/plugin/plugin.go, recipient.go, identity.go; docs/spec-v2.md). Integers are big-endian,
 * base64 is standard without padding, the RP id is always `age-encryption.org`.
 *
 *   recipient v1  u16 1 ‖ u8 pinFlag ‖ credId
 *   recipient v2  u16 2 ‖ X25519 public key(32) ‖ u8 pinFlag ‖ salt(32) ‖ credId
 *   recipient v3  u16 3 ‖ MLKEM768X25519 public key(1216) ‖ u8 pinFlag ‖ salt(32) ‖ credId (upstream
 *                 main after v0.4.0: post-quantum; the stanza stays version 2)
 *   identity  v1  u16 1 ‖ u8 pinFlag ‖ credId
 *   identity  v2  u16 2 ‖ u8 pinFlag ‖ salt(32) ‖ credId
 *   data-less     `AGE-PLUGIN-FIDO2-HMAC-188VDVA` (empty, `age -j fido2-hmac`) and the legacy
 *                 magic `AGE-PLUGIN-FIDO2-HMAC-1VE5KGMEJ945X6CTRM2TF76` (the bytes "fido2-hmac")
 *
 *   stanza v1     fido2-hmac <salt32> <nonce12> [<pinFlag> <credId>]   body = ChaCha20-Poly1305(
 *                 key = hmac-secret(salt), nonce).seal(fileKey), no AAD
 *   stanza v2     fido2-hmac AAI <native share> <pinFlag> <salt32> <credId>   body = the native body;
 *                 the share is X25519's (43 characters) or mlkem768x25519's (v3 recipients)
 *
 * v2/v3 keys: one hmac-secret assertion over the 32-byte salt gives 32 bytes used directly as an
 * age X25519 secret key, or as the seed of an `AGE-SECRET-KEY-PQ-` hybrid key for v3.
 *
 * This module parses and encodes (what the plugin's start path needs); format.ts adds the wraps
 * and unwraps (node's OpenSSL, the post-quantum code), loaded when a file key is wrapped or a key
 * answered.
 */
import { base64nopad } from '@scure/base';
import { concatBytes as concat } from '@noble/hashes/utils.js';
import { decodePluginIdentity, decodePluginRecipient, encodePluginIdentity, encodePluginRecipient } from '../../age/bech32.ts';
import { decodeFixedArg, type Stanza } from '../../age/stanza.ts';

export const PLUGIN_NAME = 'fido2-hmac';
export const STANZA_TYPE = 'fido2-hmac';
export const RP_ID = 'age-encryption.org';
export const MAGIC_IDENTITY = 'AGE-PLUGIN-FIDO2-HMAC-1VE5KGMEJ945X6CTRM2TF76';
export const EMPTY_IDENTITY = 'AGE-PLUGIN-FIDO2-HMAC-188VDVA';
const MAGIC_BYTES = new TextEncoder().encode('fido2-hmac');
/** The native stanza type a v3 recipient's key opens (src/age/mlkem768x25519.ts). */
export const MLKEM768X25519_STANZA = 'mlkem768x25519';
/** Bytes of an mlkem768x25519 share: ML-KEM-768 ciphertext (1088) ‖ X25519 ephemeral (32). */
const MLKEM768X25519_ENC = 1088 + 32;
/** Credential ids are bounded (CTAP allows up to 1023 bytes in authenticator data). */
export const MAX_CREDENTIAL_ID = 1023;

export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatError';
  }
}

export type Fido2HmacRecipient =
  | { readonly version: 1; readonly requirePin: boolean; readonly credentialId: Uint8Array }
  | { readonly version: 2; readonly publicKey: Uint8Array; readonly requirePin: boolean; readonly salt: Uint8Array; readonly credentialId: Uint8Array }
  | { readonly version: 3; readonly publicKey: Uint8Array; readonly requirePin: boolean; readonly salt: Uint8Array; readonly credentialId: Uint8Array };

/** MLKEM768X25519 public key size of a v3 recipient. */
export const PQ_PUBLIC_KEY = 1216;

export type Fido2HmacIdentity =
  | { readonly version: 1; readonly requirePin: boolean; readonly credentialId: Uint8Array }
  | { readonly version: 2; readonly requirePin: boolean; readonly salt: Uint8Array; readonly credentialId: Uint8Array }
  /** The magic / empty identity: everything is in the stanzas. */
  | { readonly version: 'dataless' };

function u16(v: number): Uint8Array {
  return new Uint8Array([v >> 8, v & 0xff]);
}

function pinFlag(b: number | undefined, what: string): boolean {
  if (b === 0) return false;
  if (b === 1) return true;
  throw new FormatError(`malformed ${what}: pin flag ${b ?? 'missing'}`);
}

function credId(b: Uint8Array, what: string): Uint8Array {
  if (b.length === 0 || b.length > MAX_CREDENTIAL_ID) throw new FormatError(`malformed ${what}: credential id of ${b.length} bytes`);
  return b.slice();
}

export function encodeRecipient(r: Fido2HmacRecipient): Uint8Array {
  const pin = new Uint8Array([r.requirePin ? 1 : 0]);
  if (r.version === 1) return concat(u16(1), pin, r.credentialId);
  return concat(u16(r.version), r.publicKey, pin, r.salt, r.credentialId);
}

/** The version of a recipient or identity payload, and its v1 form (`u16 1 ‖ pin ‖ credId`, the same for both). */
function versioned(b: Uint8Array, what: 'recipient' | 'identity'): { version: number; v1?: { version: 1; requirePin: boolean; credentialId: Uint8Array } } {
  if (b.length < 2) throw new FormatError(`malformed ${what}: too short`);
  const version = (b[0]! << 8) | b[1]!;
  if (version !== 1) return { version };
  if (b.length < 4) throw new FormatError(`malformed ${what}: too short`);
  return { version, v1: { version: 1, requirePin: pinFlag(b[2], what), credentialId: credId(b.subarray(3), what) } };
}

export function decodeRecipient(b: Uint8Array): Fido2HmacRecipient {
  const { version, v1 } = versioned(b, 'recipient');
  if (v1) return v1;
  if (version === 2) {
    if (b.length < 2 + 32 + 1 + 32 + 1) throw new FormatError('malformed recipient: too short');
    return {
      version: 2,
      publicKey: b.slice(2, 34),
      requirePin: pinFlag(b[34], 'recipient'),
      salt: b.slice(35, 67),
      credentialId: credId(b.subarray(67), 'recipient'),
    };
  }
  if (version === 3) {
    const k = PQ_PUBLIC_KEY;
    if (b.length < 2 + k + 1 + 32 + 1) throw new FormatError('malformed recipient: too short');
    return {
      version: 3,
      publicKey: b.slice(2, 2 + k),
      requirePin: pinFlag(b[2 + k], 'recipient'),
      salt: b.slice(3 + k, 35 + k),
      credentialId: credId(b.subarray(35 + k), 'recipient'),
    };
  }
  throw new FormatError(`unsupported recipient version ${version.toString(16)}`);
}

export function encodeIdentity(i: Exclude<Fido2HmacIdentity, { version: 'dataless' }>): Uint8Array {
  const pin = new Uint8Array([i.requirePin ? 1 : 0]);
  if (i.version === 1) return concat(u16(1), pin, i.credentialId);
  return concat(u16(2), pin, i.salt, i.credentialId);
}

export function decodeIdentity(b: Uint8Array): Fido2HmacIdentity {
  if (b.length === 0 || equal(b, MAGIC_BYTES)) return { version: 'dataless' };
  const { version, v1 } = versioned(b, 'identity');
  if (v1) return v1;
  if (version === 2) {
    if (b.length < 2 + 1 + 32 + 1) throw new FormatError('malformed identity: too short');
    return { version: 2, requirePin: pinFlag(b[2], 'identity'), salt: b.slice(3, 35), credentialId: credId(b.subarray(35), 'identity') };
  }
  throw new FormatError(`unsupported identity version ${version.toString(16)}`);
}

// --- strings (the central age Bech32 codec, src/age/bech32.ts) ---------------------------------

export function recipientString(r: Fido2HmacRecipient): string {
  return encodePluginRecipient(PLUGIN_NAME, encodeRecipient(r));
}

export function identityString(i: Exclude<Fido2HmacIdentity, { version: 'dataless' }>): string {
  return encodePluginIdentity(PLUGIN_NAME, encodeIdentity(i));
}

function payload(s: string, decode: (s: string) => { name: string; data: Uint8Array }, what: 'recipient' | 'identity'): Uint8Array {
  let d: { name: string; data: Uint8Array };
  try {
    d = decode(s);
  } catch (err) {
    throw new FormatError(`malformed ${what}: ${(err as Error).message.slice(0, 80)}`);
  }
  if (d.name !== PLUGIN_NAME) throw new FormatError(`malformed ${what} ${s.slice(0, 40)}: invalid type ${(what === 'recipient' ? 'age1' : 'age-plugin-') + d.name.slice(0, 40)}`);
  return d.data;
}

export function parseRecipientString(s: string): Fido2HmacRecipient {
  return decodeRecipient(payload(s, decodePluginRecipient, 'recipient'));
}

export function parseIdentityString(s: string): Fido2HmacIdentity {
  return decodeIdentity(payload(s, decodePluginIdentity, 'identity'));
}

// --- stanzas -----------------------------------------------------------------------------------

export type Fido2HmacStanza =
  | { readonly version: 1; readonly salt: Uint8Array; readonly nonce: Uint8Array; readonly requirePin?: boolean; readonly credentialId?: Uint8Array; readonly body: Uint8Array }
  | { readonly version: 2; readonly share: string; readonly requirePin: boolean; readonly salt: Uint8Array; readonly credentialId: Uint8Array; readonly body: Uint8Array };

function b64(s: string | undefined, what: string): Uint8Array {
  if (s === undefined) throw new FormatError(`invalid fido2-hmac stanza: ${what} missing`);
  let out: Uint8Array;
  try {
    out = base64nopad.decode(s);
  } catch {
    throw new FormatError(`invalid fido2-hmac stanza: ${what} is not base64`);
  }
  if (base64nopad.encode(out) !== s) throw new FormatError(`invalid fido2-hmac stanza: ${what} is not canonical base64`);
  return out;
}

/** Parses a `fido2-hmac` stanza's arguments (after the type) and body. */
export function parseStanza(args: readonly string[], body: Uint8Array): Fido2HmacStanza {
  if (args.length === 0) throw new FormatError('invalid fido2-hmac stanza: no arguments');
  const first = b64(args[0], 'first argument');
  if (first.length === 32) {
    if (args.length !== 2 && args.length !== 4) throw new FormatError(`invalid fido2-hmac stanza: a v1 stanza has 2 or 4 arguments, not ${args.length}`);
    const nonce = b64(args[1], 'nonce');
    if (nonce.length !== 12) throw new FormatError('invalid fido2-hmac stanza: the nonce is not 12 bytes');
    if (body.length !== 32) throw new FormatError('invalid fido2-hmac stanza: the body is not 32 bytes');
    if (args.length === 2) return { version: 1, salt: first, nonce, body };
    // v0.4.0 compares the flag as the literal `AQ`: anything else means "no PIN".
    return { version: 1, salt: first, nonce, requirePin: args[2] === 'AQ', credentialId: credId(b64(args[3], 'credential id'), 'stanza'), body };
  }
  if (first.length !== 2) throw new FormatError('invalid fido2-hmac stanza: unknown version field');
  const version = (first[0]! << 8) | first[1]!;
  if (version !== 2) throw new FormatError(`unsupported stanza version ${version}`);
  if (args.length !== 5) throw new FormatError(`invalid fido2-hmac stanza: a v2 stanza has 5 arguments, not ${args.length}`);
  const share = args[1]!;
  // an mlkem768x25519 share (v3 recipients) as its native stanza has it, with a 32-byte body
  if (share.length !== 43 && (!decodeFixedArg(share, MLKEM768X25519_ENC) || body.length !== 32)) throw new FormatError('invalid fido2-hmac stanza: bad native share');
  const flag = b64(args[2], 'pin flag');
  if (flag.length !== 1) throw new FormatError('invalid fido2-hmac stanza: the pin flag is not one byte');
  const salt = b64(args[3], 'salt');
  if (salt.length !== 32) throw new FormatError('invalid fido2-hmac stanza: the salt is not 32 bytes');
  return { version: 2, share, requirePin: pinFlag(flag[0], 'stanza'), salt, credentialId: credId(b64(args[4], 'credential id'), 'stanza'), body };
}

/** The v2 fido2-hmac stanza carrying `native`, the X25519 or mlkem768x25519 stanza wrapped to a v2/v3 recipient's key. */
export function carryStanza(native: Stanza, r: Exclude<Fido2HmacRecipient, { version: 1 }>): Stanza {
  return { type: STANZA_TYPE, args: ['AAI', native.args[0]!, base64nopad.encode(new Uint8Array([r.requirePin ? 1 : 0])), base64nopad.encode(r.salt), base64nopad.encode(r.credentialId)], body: native.body };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
