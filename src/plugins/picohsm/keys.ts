/**
 * Age keys on a Pico HSM: which key pairs can serve (P-256 and X25519, the device's own key 0
 * excepted), which ones keybridge made (their CV request carries our holder reference), making a
 * new one (key pair on the device, ECDH-only, with the PKCS#15 description OpenSC and pinpox's
 * plugin look keys up by: label, id, derive usage), and finding the key an identity names (by
 * label first, then by id, as pinpox does).
 *
 * Post-quantum keys (`mlkem768p256tag`, `age1tagpq1…`) are P-256 key pairs with an ML-KEM-768
 * half kept beside them in two data objects, each `"KBPQ" ‖ 0x01 ‖ payload`:
 *
 *   CD<key id>  (PIN-protected data)  the 64-byte ML-KEM-768 seed d ‖ z
 *   CF<key id>  (public data)         the 1184-byte ML-KEM-768 encapsulation key
 *
 * so the recipient is known without the PIN, while the ML-KEM secret is read only after the PIN,
 * when a stanza's tag has named the key. The key's CV request says it is one (holder reference
 * `KBAPQ…` instead of `KBAGE…`), so classic keys cost no extra read.
 */
import { nodeCrypto } from '../../nodeCrypto.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { bech32Encode } from '../../age/bech32.ts';
/** HRP of `age1tagpq1…` (as age/pqKeys.ts, which loads ML-KEM; kept out of the decryption path). */
const TAGPQ_RECIPIENT_HRP = 'age1tagpq';
import { bytesEqual } from '../../age/p256.ts';
import { ALGO_EC_DH, DEVICE_KEY_ID, Prefix } from '../../tokens/schsm/constants.ts';
import type { Curve } from '../../tokens/schsm/cvRequest.ts';
import { ScHsmError } from '../../tokens/schsm/errors.ts';
import { encodeEcPrkd, Usage } from '../../tokens/schsm/prkd.ts';
import type { ScHsmSession } from '../../tokens/schsm/session.ts';
import { describeSlot, slotWord, type KeyType, type PicoHsmIdentity } from './identity.ts';
import { encodeRecipient, encodeTagRecipient, encodeX25519Recipient, fingerprint } from './recipient.ts';

/** Holder reference prefix of the keys keybridge generates (country "KB", mnemonic "AGE"). */
export const OUR_CHR_PREFIX = 'KBAGE';
/** Holder reference prefix of keybridge's post-quantum keys. */
export const PQ_CHR_PREFIX = 'KBAPQ';

export interface AgeKey {
  keyId: number;
  curve: Curve;
  publicKey: Uint8Array;
  /** From the key's PKCS#15 description; null when it has none. */
  label: string | null;
  pkcsId: Uint8Array | null;
  /** Made by keybridge (`--generate`). */
  ours: boolean;
  /** The description allows derivation (ECDH), or there is no description to say otherwise. */
  derive: boolean;
  /** A post-quantum key: the ML-KEM-768 encapsulation key from its public data object. */
  pq?: { encapsulationKey: Uint8Array };
}

const PQ_MAGIC = Uint8Array.of(0x4b, 0x42, 0x50, 0x51, 0x01); // "KBPQ", version 1
export const PQ_SEED_FILE = (keyId: number) => (Prefix.PROTECTED_DATA << 8) | keyId;
export const PQ_EK_FILE = (keyId: number) => (Prefix.PUBLIC_DATA << 8) | keyId;

function pqObject(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(PQ_MAGIC.length + payload.length);
  out.set(PQ_MAGIC, 0);
  out.set(payload, PQ_MAGIC.length);
  return out;
}

/** The payload of one of our PQ data objects, or null when the file holds something else (another tool's data object). */
function pqPayload(file: Uint8Array, length: number): Uint8Array | null {
  if (file.length !== PQ_MAGIC.length + length || !PQ_MAGIC.every((b, i) => file[i] === b)) return null;
  return file.slice(PQ_MAGIC.length);
}

/** The 64-byte ML-KEM seed of post-quantum key `keyId` (the PIN must be verified). */
export async function readPqSeed(session: ScHsmSession, keyId: number): Promise<Uint8Array> {
  const seed = pqPayload(await session.readFile(PQ_SEED_FILE(keyId)), 64);
  if (!seed) throw new ScHsmError('CARD', `The ML-KEM seed object of key ${keyId} is not in keybridge's format`);
  return seed;
}

/** Key `keyId` as an age key; null when it is neither P-256 nor X25519 (or has no public key object). */
export async function readAgeKey(session: ScHsmSession, keyId: number): Promise<AgeKey | null> {
  let pub;
  try {
    pub = await session.readPublicKey(keyId);
  } catch (e) {
    if (e instanceof ScHsmError && (e.code === 'NOT_FOUND' || e.code === 'CARD')) return null;
    throw e;
  }
  if (!pub.curve) return null;
  const desc = await session.readKeyDescription(keyId);
  let pq: AgeKey['pq'];
  if (pub.curve === 'p256' && pub.chr.startsWith(PQ_CHR_PREFIX)) {
    try {
      const ek = pqPayload(await session.readFile(PQ_EK_FILE(keyId)), 1184);
      if (ek) pq = { encapsulationKey: ek };
    } catch (e) {
      if (!(e instanceof ScHsmError && e.code === 'NOT_FOUND')) throw e;
    }
  }
  return {
    keyId,
    curve: pub.curve,
    publicKey: pub.publicKey,
    label: desc?.label ?? null,
    pkcsId: desc?.id ?? null,
    ours: pub.chr.startsWith(OUR_CHR_PREFIX) || pub.chr.startsWith(PQ_CHR_PREFIX),
    derive: desc ? (desc.usage & Usage.DERIVE) !== 0 : true,
    ...(pq ? { pq } : {}),
  };
}

/** Every P-256 and X25519 key pair on the device except its own key. */
export async function readAgeKeys(session: ScHsmSession): Promise<AgeKey[]> {
  const out: AgeKey[] = [];
  for (const keyId of await session.listKeyIds()) {
    if (keyId === DEVICE_KEY_ID) continue;
    const k = await readAgeKey(session, keyId);
    if (k) out.push(k);
  }
  return out;
}

/**
 * Generates a key pair for age (the PIN must be verified): ECDH only, described with `label` and
 * the id SHA-256(public key)[0..4] so OpenSC's PKCS#11 module (and pinpox's plugin through it)
 * finds it by label or id.
 */
export async function generateAgeKey(session: ScHsmSession, opts: { label: string; keyType: KeyType; pq?: boolean }): Promise<AgeKey> {
  if (opts.pq && opts.keyType !== 'p256') throw new ScHsmError('BAD_INPUT', 'post-quantum keys are P-256 keys');
  const keyId = await session.freeKeyId();
  if (opts.pq) {
    // Never overwrite another tool's data objects that happen to use this id (the PIN is verified, so both read).
    for (const fid of [PQ_SEED_FILE(keyId), PQ_EK_FILE(keyId)]) {
      const exists = await session.readFile(fid).then(
        () => true,
        (e) => (e instanceof ScHsmError && e.code === 'NOT_FOUND' ? false : Promise.reject(e)),
      );
      if (exists) throw new ScHsmError('NOT_ALLOWED', `Data object ${fid.toString(16).toUpperCase()} already exists on the Pico HSM and is left alone, so no post-quantum key can use key id ${keyId}`);
    }
  }
  const chr = `${opts.pq ? PQ_CHR_PREFIX : OUR_CHR_PREFIX}${String(keyId).padStart(5, '0')}`;
  const pub = await session.generateKey(keyId, opts.keyType, { chr, algorithms: [ALGO_EC_DH] });
  const pkcsId = sha256(pub.publicKey).slice(0, 4);
  await session.writeKeyDescription(keyId, encodeEcPrkd({ label: opts.label, id: pkcsId, usage: Usage.DERIVE, keyRef: keyId, fieldSize: opts.keyType === 'p256' ? 256 : 255 }));
  let pq: AgeKey['pq'];
  if (opts.pq) {
    const seed = new Uint8Array(nodeCrypto().randomBytes(64));
    try {
      const { mlkemFromSeed } = await import('../../age/hybridKem.ts');
      const { encapsulationKey } = mlkemFromSeed(seed);
      await session.writeFile(PQ_SEED_FILE(keyId), pqObject(seed), 'Writing the ML-KEM seed');
      await session.writeFile(PQ_EK_FILE(keyId), pqObject(encapsulationKey), 'Writing the ML-KEM public key');
      pq = { encapsulationKey };
    } finally {
      seed.fill(0);
    }
  }
  return { keyId, curve: opts.keyType, publicKey: pub.publicKey, label: opts.label, pkcsId, ours: true, derive: true, ...(pq ? { pq } : {}) };
}

/** The identity for a key: pinpox's layout, with this device's tag and the key type in the slot word. */
export function identityOf(key: AgeKey, deviceTag: number): PicoHsmIdentity {
  return { slot: slotWord(key.curve, deviceTag, Boolean(key.pq)), keyId: key.pkcsId ?? Uint8Array.of(key.keyId), label: key.label ?? '' };
}

/** The 1249 bytes of a post-quantum key's `age1tagpq1` recipient: ek ‖ uncompressed P-256 point. */
export function tagPqRecipientBytes(key: AgeKey): Uint8Array | null {
  if (!key.pq || key.curve !== 'p256') return null;
  const out = new Uint8Array(1184 + 65);
  out.set(key.pq.encapsulationKey, 0);
  out.set(key.publicKey, 1184);
  return out;
}

/** The recipients of a key: `age1picohsm1…` and `age1tag1…` for P-256, plain `age1…` for X25519. */
export function recipientsOf(key: AgeKey): { recipient: string; tagRecipient?: string; fingerprint?: Uint8Array } {
  if (key.curve === 'x25519') return { recipient: encodeX25519Recipient(key.publicKey) };
  // A post-quantum key is offered only in its post-quantum form: a file encrypted to its classic
  // forms would not be post-quantum.
  const pq = tagPqRecipientBytes(key);
  if (pq) return { recipient: bech32Encode(TAGPQ_RECIPIENT_HRP, pq) };
  return { recipient: encodeRecipient(key.publicKey), tagRecipient: encodeTagRecipient(key.publicKey), fingerprint: fingerprint(key.publicKey) };
}

/**
 * The key an identity names among `keys`: a non-empty label picks by label, else the id (the
 * PKCS#15 id, or the key reference for keys without a description). The key type must be the one
 * the identity says. null when none.
 */
export function findKey(keys: readonly AgeKey[], identity: PicoHsmIdentity): AgeKey | null {
  const { keyType, pq } = describeSlot(identity.slot);
  const typed = keys.filter((k) => k.curve === keyType && (!pq || k.pq));
  if (identity.label !== '') return typed.find((k) => k.label === identity.label) ?? null;
  if (identity.keyId.length === 0) return null;
  return typed.find((k) => (k.pkcsId ? bytesEqual(k.pkcsId, identity.keyId) : identity.keyId.length === 1 && identity.keyId[0] === k.keyId)) ?? null;
}
