/**
 * Age keys on a Pico HSM: which key pairs can serve (P-256 and X25519, the device's own key 0
 * excepted), which ones keybridge made (their CV request carries our holder reference), making a
 * new one (key pair on the device, ECDH-only, with the PKCS#15 description OpenSC and pinpox's
 * plugin look keys up by: label, id, derive usage), and finding the key an identity names (by
 * label first, then by id, as pinpox does).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual } from '../../age/p256.ts';
import { ALGO_EC_DH, DEVICE_KEY_ID } from '../../tokens/schsm/constants.ts';
import type { Curve } from '../../tokens/schsm/cvRequest.ts';
import { ScHsmError } from '../../tokens/schsm/errors.ts';
import { encodeEcPrkd, Usage } from '../../tokens/schsm/prkd.ts';
import type { ScHsmSession } from '../../tokens/schsm/session.ts';
import { describeSlot, slotWord, type KeyType, type PicoHsmIdentity } from './identity.ts';
import { encodeRecipient, encodeTagRecipient, encodeX25519Recipient, fingerprint } from './recipient.ts';

/** Holder reference prefix of the keys keybridge generates (country "KB", mnemonic "AGE"). */
export const OUR_CHR_PREFIX = 'KBAGE';

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
  return {
    keyId,
    curve: pub.curve,
    publicKey: pub.publicKey,
    label: desc?.label ?? null,
    pkcsId: desc?.id ?? null,
    ours: pub.chr.startsWith(OUR_CHR_PREFIX),
    derive: desc ? (desc.usage & Usage.DERIVE) !== 0 : true,
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
export async function generateAgeKey(session: ScHsmSession, opts: { label: string; keyType: KeyType }): Promise<AgeKey> {
  const keyId = await session.freeKeyId();
  const chr = `${OUR_CHR_PREFIX}${String(keyId).padStart(5, '0')}`;
  const pub = await session.generateKey(keyId, opts.keyType, { chr, algorithms: [ALGO_EC_DH] });
  const pkcsId = sha256(pub.publicKey).slice(0, 4);
  await session.writeKeyDescription(keyId, encodeEcPrkd({ label: opts.label, id: pkcsId, usage: Usage.DERIVE, keyRef: keyId, fieldSize: opts.keyType === 'p256' ? 256 : 255 }));
  return { keyId, curve: opts.keyType, publicKey: pub.publicKey, label: opts.label, pkcsId, ours: true, derive: true };
}

/** The identity for a key: pinpox's layout, with this device's tag and the key type in the slot word. */
export function identityOf(key: AgeKey, deviceTag: number): PicoHsmIdentity {
  return { slot: slotWord(key.curve, deviceTag), keyId: key.pkcsId ?? Uint8Array.of(key.keyId), label: key.label ?? '' };
}

/** The recipients of a key: `age1picohsm1…` and `age1tag1…` for P-256, plain `age1…` for X25519. */
export function recipientsOf(key: AgeKey): { recipient: string; tagRecipient?: string; fingerprint?: Uint8Array } {
  if (key.curve === 'x25519') return { recipient: encodeX25519Recipient(key.publicKey) };
  return { recipient: encodeRecipient(key.publicKey), tagRecipient: encodeTagRecipient(key.publicKey), fingerprint: fingerprint(key.publicKey) };
}

/**
 * The key an identity names among `keys`: a non-empty label picks by label, else the id (the
 * PKCS#15 id, or the key reference for keys without a description). The key type must be the one
 * the identity says. null when none.
 */
export function findKey(keys: readonly AgeKey[], identity: PicoHsmIdentity): AgeKey | null {
  const { keyType } = describeSlot(identity.slot);
  const typed = keys.filter((k) => k.curve === keyType);
  if (identity.label !== '') return typed.find((k) => k.label === identity.label) ?? null;
  if (identity.keyId.length === 0) return null;
  return typed.find((k) => (k.pkcsId ? bytesEqual(k.pkcsId, identity.keyId) : identity.keyId.length === 1 && identity.keyId[0] === k.keyId)) ?? null;
}
