/**
 * Key operations of the `mlkem768p256tag` type (see `mlkem768p256tag.ts` for the wire format):
 * wrapping to an `age1tagpq1` recipient, a tagpq key from its 64-byte ML-KEM seed and a P-256
 * public key, and unwrapping with the P-256 half behind an ECDH oracle (a card).
 */
import { p256 } from '@noble/curves/nist.js';
import { base64nopad } from '@scure/base';
import type { Identity, Stanza as TypageStanza } from 'age-encryption';
import { hpkeOpenOnce, hpkeSealOnce } from './hpke.ts';
import { decapsulate, encapsulate, MLKEM768_EK, MLKEM768_P256, mlkemFromSeed, splitPublicKey } from './hybridKem.ts';
import {
  mlkem768P256Tag,
  mlkem768P256TagMatches,
  MLKEM768P256TAG_INFO as INFO,
  MLKEM768P256TAG_TYPE,
  parseMlkem768P256Tag,
  tagPqStaticTag,
  type Mlkem768P256TagStanza,
} from './mlkem768p256tag.ts';
import type { Stanza } from './stanza.ts';

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
