/**
 * The native `mlkem768p256tag` recipient type (C2SP age.md), for hardware keys whose P-256 half
 * lives on a card while the ML-KEM-768 half runs in software:
 *
 *   -> mlkem768p256tag <b64 tag, 4 B> <b64 enc, 1153 B = ct_PQ(1088) ‖ uncompressed P-256(65)>
 *   <b64 ChaCha20-Poly1305(HPKE base(MLKEM768-P256, info "age-encryption.org/mlkem768p256tag"))(file key)>
 *
 *   recipient (age1tagpq1…) = ek_PQ(1184) ‖ uncompressed P-256 point(65)
 *   tag = HKDF-Extract(salt = info, ikm = enc ‖ SHA-256(uncompressed P-256 point)[:4])[:4]
 *
 * The 4-byte static hash is all an identity needs to test a stanza, so stanzas for other keys are
 * skipped before any PIN, touch or card command. This module parses and matches stanzas without
 * loading ML-KEM; the key operations are in `mlkem768p256tagKey.ts`.
 */
import { isP256Point } from './p256.ts';
import { extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { decodeFixedArg, type Stanza } from './stanza.ts';

export const MLKEM768P256TAG_TYPE = 'mlkem768p256tag';
export const MLKEM768P256TAG_INFO = new TextEncoder().encode('age-encryption.org/mlkem768p256tag');
/** ct_PQ(1088) ‖ uncompressed P-256 point(65). */
export const MLKEM768P256TAG_ENC = 1153;

export interface Mlkem768P256TagStanza {
  tag: Uint8Array;
  /** ct_PQ ‖ uncompressed ephemeral P-256 point, 1153 bytes. */
  enc: Uint8Array;
  body: Uint8Array;
}

export type ParsedStanza<T> = { ok: T } | { malformed: string } | null;

/** Parses a stanza; null for other types, `malformed` for a broken `mlkem768p256tag` one. */
export function parseMlkem768P256Tag(s: Stanza): ParsedStanza<Mlkem768P256TagStanza> {
  if (s.type !== MLKEM768P256TAG_TYPE) return null;
  if (s.args.length !== 2) return { malformed: 'invalid mlkem768p256tag stanza: expected 2 arguments' };
  const tag = decodeFixedArg(s.args[0]!, 4);
  const enc = decodeFixedArg(s.args[1]!, MLKEM768P256TAG_ENC);
  if (!tag || !enc) return { malformed: 'invalid mlkem768p256tag stanza: bad tag or encapsulated key' };
  if (s.body.length !== 32) return { malformed: 'invalid mlkem768p256tag stanza: body must be 32 bytes' };
  try {
    if (enc[1088] !== 4 || !isP256Point(enc.subarray(1088))) throw new Error('not an uncompressed point');
  } catch {
    return { malformed: 'invalid mlkem768p256tag stanza: ephemeral P-256 point' };
  }
  return { ok: { tag, enc, body: s.body } };
}

/** SHA-256(uncompressed P-256 point)[:4]: the static half of the tag, stored in identity stubs. */
export function tagPqStaticTag(p256Uncompressed: Uint8Array): Uint8Array {
  if (p256Uncompressed.length !== 65 || p256Uncompressed[0] !== 4) throw new RangeError('the tagpq static tag needs the 65-byte uncompressed point');
  return sha256(p256Uncompressed).subarray(0, 4);
}

export function mlkem768P256Tag(enc: Uint8Array, staticTag: Uint8Array): Uint8Array {
  const ikm = new Uint8Array(enc.length + 4);
  ikm.set(enc, 0);
  ikm.set(staticTag, enc.length);
  return extract(sha256, ikm, MLKEM768P256TAG_INFO).subarray(0, 4);
}

/** Constant-time comparison of two short byte strings of equal public length. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** Whether a stanza's tag was computed for the key with this static tag (no card needed). */
export function mlkem768P256TagMatches(stanza: Mlkem768P256TagStanza, staticTag: Uint8Array): boolean {
  return sameBytes(mlkem768P256Tag(stanza.enc, staticTag), stanza.tag);
}

type KeyModule = typeof import('./mlkem768p256tagKey.ts');
let keyModule: KeyModule | undefined;

/** Loads the key operations (ML-KEM) once; a run that meets no post-quantum key never does. */
export async function loadTagPqKeys(): Promise<KeyModule> {
  return (keyModule ??= await import('./mlkem768p256tagKey.ts'));
}

/** Wraps to a 1249-byte recipient, for synchronous callers that ran `loadTagPqKeys` first. */
export function wrapTagPqLoaded(fileKey: Uint8Array, recipient: Uint8Array): Stanza {
  if (!keyModule) throw new Error('internal error: post-quantum wrapping before the key operations were loaded');
  return keyModule.wrapMlkem768P256Tag(fileKey, recipient);
}
