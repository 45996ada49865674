/**
 * What a retired slot holds, for age: the P-256 public key, whether the certificate is one
 * age-plugin-yubikey (or keybridge) wrote, its name, creation time and PIN/touch policies.
 *
 * The public key for decryption comes from GET METADATA when the firmware has it (one short
 * APDU), else from the slot certificate. Listing reads certificates, since names and dates live
 * there.
 *
 * A post-quantum (`mlkem768p256tag`) key is a P-256 slot key whose certificate also carries the
 * 64-byte ML-KEM-768 seed (critical extension 1.3.6.1.4.1.64829.1.1, as age-plugin-yubikey's
 * tagpq support writes it); its stub tag is SHA-256 of the uncompressed point, so a stub says by
 * itself which kind of key it names.
 */
import { bytesEqual, tryCompressP256 as compressIfP256 } from '../../age/p256.ts';
import { KeyAlgorithm, pinPolicyFromByte, touchPolicyFromByte, type PinPolicy, type TouchPolicy } from '../../tokens/piv/constants.ts';
import type { CertificateInfo } from '../../tokens/piv/certificate.ts';
import { PivError } from '../../tokens/piv/errors.ts';
import type { PivSession } from '../../tokens/piv/session.ts';
import type { TagPqKey } from '../../age/mlkem768p256tagKey.ts';
import { recipientTag } from './recipient.ts';

export const CERT_ORGANIZATION = 'age-plugin-yubikey';

export interface SlotKey {
  slot: number;
  /** 33-byte compressed P-256 point. */
  publicKey: Uint8Array;
  tag: Uint8Array;
  /** True when the certificate says age-plugin-yubikey made it. */
  ours: boolean;
  name: string;
  created?: Date;
  pinPolicy?: PinPolicy;
  touchPolicy?: TouchPolicy;
  /** The post-quantum half, when the certificate holds an ML-KEM seed (then `tag` is the tagpq tag). */
  pq?: TagPqKey;
}

async function fromCertificate(slot: number, info: CertificateInfo): Promise<SlotKey | null> {
  const { firstAttribute, OID } = await import('../../tokens/piv/certificate.ts');
  if (info.curve !== 'P-256') return null;
  const publicKey = compressIfP256(info.publicKey);
  if (!publicKey) return null;
  const ours = firstAttribute(info, OID.organization) === CERT_ORGANIZATION;
  // ML-KEM is loaded only for a post-quantum key.
  const pq = info.mlkemSeed ? (await import('../../age/mlkem768p256tagKey.ts')).tagPqKey(info.mlkemSeed, info.publicKey) : undefined;
  const key: SlotKey = {
    slot,
    publicKey,
    tag: pq ? pq.staticTag : recipientTag(publicKey),
    ...(pq ? { pq } : {}),
    ours,
    name: ours ? (firstAttribute(info, OID.commonName) ?? '') : info.subjectDn,
    created: info.notBefore,
  };
  if (ours && info.policy) {
    const pin = pinPolicyFromByte(info.policy[0]);
    const touch = touchPolicyFromByte(info.policy[1]);
    if (pin && pin !== 'default') key.pinPolicy = pin;
    if (touch && touch !== 'default') key.touchPolicy = touch;
  }
  return key;
}

/** Reads a slot through its certificate; null when empty or not a P-256 key. */
export async function readSlotKey(piv: PivSession, slot: number): Promise<SlotKey | null> {
  const der = await piv.getCertificate(slot);
  if (!der) return null;
  // The X.509 code is loaded only when a certificate is actually read.
  const { parseCertificate } = await import('../../tokens/piv/certificate.ts');
  let info: CertificateInfo;
  try {
    info = parseCertificate(der);
  } catch {
    return null;
  }
  const key = await fromCertificate(slot, info);
  if (key && (!key.pinPolicy || !key.touchPolicy)) await fillPoliciesFromMetadata(piv, key);
  return key;
}

async function fillPoliciesFromMetadata(piv: PivSession, key: SlotKey): Promise<void> {
  if (!(await piv.supportsMetadata())) return;
  try {
    const md = await piv.getMetadata(key.slot);
    if (md?.pinPolicy && md.pinPolicy !== 'default') key.pinPolicy ??= md.pinPolicy;
    if (md?.touchPolicy && md.touchPolicy !== 'default') key.touchPolicy ??= md.touchPolicy;
  } catch (e) {
    if (!(e instanceof PivError)) throw e;
  }
}

/**
 * The cheapest way to the slot's public key and policies for decryption: GET METADATA on
 * firmware >= 5.3 (no certificate transfer), else the certificate.
 */
export async function readSlotForDecryption(piv: PivSession, slot: number): Promise<Pick<SlotKey, 'publicKey' | 'tag' | 'pinPolicy' | 'touchPolicy'> | null> {
  if (await piv.supportsMetadata()) {
    try {
      const md = await piv.getMetadata(slot);
      if (md && md.algorithm === KeyAlgorithm.EccP256 && md.publicKey) {
        const publicKey = compressIfP256(md.publicKey);
        if (publicKey) {
          const out: Pick<SlotKey, 'publicKey' | 'tag' | 'pinPolicy' | 'touchPolicy'> = { publicKey, tag: recipientTag(publicKey) };
          if (md.pinPolicy && md.pinPolicy !== 'default') out.pinPolicy = md.pinPolicy;
          if (md.touchPolicy && md.touchPolicy !== 'default') out.touchPolicy = md.touchPolicy;
          return out;
        }
      }
      if (md && md.algorithm !== KeyAlgorithm.EccP256) return null;
    } catch (e) {
      if (!(e instanceof PivError)) throw e;
      if (e.code === 'NOT_FOUND') return null;
    }
  }
  return readSlotKey(piv, slot);
}

export type SlotForStub = Pick<SlotKey, 'publicKey' | 'tag' | 'pinPolicy' | 'touchPolicy' | 'pq'>;

/**
 * The slot key a stub names, or null when the slot holds another key. A classic stub is answered
 * from GET METADATA where possible; a post-quantum stub (its tag is not the compressed point's)
 * needs the certificate, which holds the ML-KEM seed.
 */
export async function readSlotForStub(piv: PivSession, slot: number, stubTag: Uint8Array): Promise<SlotForStub | null> {
  const quick = await readSlotForDecryption(piv, slot);
  if (quick && bytesEqual(quick.tag, stubTag)) return quick;
  if (!quick) return null;
  const full = 'pq' in quick || 'ours' in quick ? (quick as SlotKey) : await readSlotKey(piv, slot);
  return full && bytesEqual(full.tag, stubTag) ? full : null;
}
