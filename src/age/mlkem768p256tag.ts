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
 * skipped before any PIN, touch or card command.
 */
import { p256 } from '@noble/curves/nist.js';
import { extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64nopad } from '@scure/base';
import type { Identity, Stanza as TypageStanza } from 'age-encryption';
import { hpkeOpenOnce, hpkeSealOnce } from './hpke.ts';
import { decapsulate, encapsulate, MLKEM768_EK, MLKEM768_P256, mlkemFromSeed, splitPublicKey } from './hybridKem.ts';
import { decodeFixedArg, type Stanza } from './stanza.ts';

export const MLKEM768P256TAG_TYPE = 'mlkem768p256tag';
const INFO = new TextEncoder().encode('age-encryption.org/mlkem768p256tag');

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
  const enc = decodeFixedArg(s.args[1]!, MLKEM768_P256.encSize);
  if (!tag || !enc) return { malformed: 'invalid mlkem768p256tag stanza: bad tag or encapsulated key' };
  if (s.body.length !== 32) return { malformed: 'invalid mlkem768p256tag stanza: body must be 32 bytes' };
  try {
    MLKEM768_P256.curve.check(enc.subarray(1088));
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
  return extract(sha256, ikm, INFO).subarray(0, 4);
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

/** Wraps a 16-byte file key to a 1249-byte `age1tagpq1` recipient. `randomness` is for tests only. */
export function wrapMlkem768P256Tag(fileKey: Uint8Array, recipient: Uint8Array, randomness?: Uint8Array): Stanza {
  if (fileKey.length !== 16) throw new RangeError('file key must be 16 bytes');
  const { enc, sharedSecret } = encapsulate(MLKEM768_P256, recipient, randomness);
  const tag = mlkem768P256Tag(enc, tagPqStaticTag(recipient.subarray(MLKEM768_EK)));
  const body = hpkeSealOnce(MLKEM768_P256.id, sharedSecret, INFO, fileKey);
  return { type: MLKEM768P256TAG_TYPE, args: [base64nopad.encode(tag), base64nopad.encode(enc)], body };
}

/** A tagpq key: the ML-KEM half from its 64-byte seed, the P-256 half as a public point plus an ECDH oracle. */
export interface TagPqKey {
  /** ML-KEM-768 decapsulation key. */
  decapsulationKey: Uint8Array;
  /** Uncompressed P-256 public point (65 bytes). */
  p256Public: Uint8Array;
  /** The 1249 recipient bytes. */
  recipient: Uint8Array;
  staticTag: Uint8Array;
}

/** Builds a tagpq key from the 64-byte ML-KEM seed d ‖ z and the (card's) P-256 public key. */
export function tagPqKey(mlkemSeed: Uint8Array, p256PublicKey: Uint8Array): TagPqKey {
  const p256Public = p256.Point.fromBytes(p256PublicKey).toBytes(false);
  const { encapsulationKey, decapsulationKey } = mlkemFromSeed(mlkemSeed);
  const recipient = new Uint8Array(MLKEM768_P256.publicKeySize);
  recipient.set(encapsulationKey, 0);
  recipient.set(p256Public, MLKEM768_EK);
  return { decapsulationKey, p256Public, recipient, staticTag: tagPqStaticTag(p256Public) };
}

/**
 * Opens the stanza with a tagpq key. `ecdh(peer)` returns the 32-byte x-coordinate of the P-256
 * shared point (on a card: PIV GENERAL AUTHENTICATE / SmartCard-HSM ECDH). Returns null when the
 * AEAD does not open (with ML-KEM's implicit rejection that is how a wrong key shows).
 */
export async function unwrapMlkem768P256Tag(
  stanza: Mlkem768P256TagStanza,
  key: Pick<TagPqKey, 'decapsulationKey' | 'p256Public'>,
  ecdh: (peerUncompressed: Uint8Array) => Promise<Uint8Array>,
): Promise<Uint8Array | null> {
  const ss = await decapsulate(MLKEM768_P256, stanza.enc, { decapsulationKey: key.decapsulationKey, traditionalPublic: key.p256Public, dh: ecdh });
  const fileKey = hpkeOpenOnce(MLKEM768_P256.id, ss, INFO, stanza.body);
  return fileKey && fileKey.length === 16 ? fileKey : null;
}

/** Checks a 1249-byte tagpq recipient (sizes, ML-KEM key check, P-256 point on the curve). */
export function checkTagPqRecipient(recipient: Uint8Array): void {
  splitPublicKey(MLKEM768_P256, recipient);
}

/**
 * A typage `Identity` for a tagpq key whose P-256 half answers through `ecdh`: stanzas whose tag
 * names another key are skipped without calling `ecdh`; a malformed stanza, or one that matches
 * the tag but does not open, is an error (a 32-bit tag collision is not expected).
 */
export function tagPqIdentity(key: TagPqKey, ecdh: (peerUncompressed: Uint8Array) => Promise<Uint8Array>): Identity {
  return {
    async unwrapFileKey(stanzas: TypageStanza[]): Promise<Uint8Array | null> {
      for (const s of stanzas) {
        const parsed = parseMlkem768P256Tag({ type: s.args[0] ?? '', args: s.args.slice(1), body: s.body });
        if (!parsed) continue;
        if ('malformed' in parsed) throw new Error(parsed.malformed);
        if (!mlkem768P256TagMatches(parsed.ok, key.staticTag)) continue;
        const fileKey = await unwrapMlkem768P256Tag(parsed.ok, key, ecdh);
        if (!fileKey) throw new Error('failed to decrypt an mlkem768p256tag stanza addressed to this key');
        return fileKey;
      }
      return null;
    },
  };
}
