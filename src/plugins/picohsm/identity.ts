/**
 * `AGE-PLUGIN-PICOHSM-1…` identities in pinpox/age-plugin-picohsm's layout:
 *
 *   u32 BE slot ‖ u8 n ‖ key id (n bytes, the key's PKCS#15 iD = OpenSC's CKA_ID) ‖ label (rest, UTF-8)
 *
 * pinpox writes slot 0 and never reads it. keybridge puts its device naming there, which pinpox
 * ignores, so identities stay interchangeable:
 *
 *   bit 31 set ‖ bits 24–27 key type (0 = P-256, 1 = X25519, 2 = P-256 + ML-KEM-768, i.e. a
 *   post-quantum `mlkem768p256tag` key) ‖ bits 0–23 device tag
 *
 * with device tag = SHA-256("keybridge picohsm device " ‖ serial)[0..3]. Slot 0 (pinpox's
 * identities) means: a P-256 key on any device. Keys are found by label first, then by id, as
 * pinpox does.
 */
import { sha256 } from '../../openssl.ts';
import { bech32Decode, bech32Encode } from '../../age/bech32.ts';
import { PicoHsmError } from './errors.ts';

export const IDENTITY_HRP = 'age-plugin-picohsm-';
export type KeyType = 'p256' | 'x25519';

export interface PicoHsmIdentity {
  /** The raw slot word (kept as read, so an identity re-encodes byte for byte). */
  slot: number;
  keyId: Uint8Array;
  label: string;
}

const MARK = 0x8000_0000;
const MAX_LABEL = 1024;

/** The 24-bit tag that names a device (from its serial, as OpenSC shows it). */
export function deviceTag(serial: string): number {
  const h = sha256(new TextEncoder().encode(`keybridge picohsm device ${serial}`));
  return (h[0]! << 16) | (h[1]! << 8) | h[2]!;
}

export function slotWord(keyType: KeyType, tag: number, pq = false): number {
  const type = keyType === 'x25519' ? 1 : pq ? 2 : 0;
  return (MARK | (type << 24) | (tag & 0xffffff)) >>> 0;
}

/** What the slot word says: the key type, and the device tag when the identity names one. */
export function describeSlot(slot: number): { keyType: KeyType; deviceTag: number | null; pq?: true } {
  if (!(slot & MARK)) return { keyType: 'p256', deviceTag: null };
  const type = (slot >>> 24) & 0x0f;
  return { keyType: type === 1 ? 'x25519' : 'p256', deviceTag: slot & 0xffffff, ...(type === 2 ? { pq: true as const } : {}) };
}

export function encodeIdentity(id: PicoHsmIdentity): string {
  const label = new TextEncoder().encode(id.label);
  if (id.keyId.length > 255) throw new PicoHsmError('INVALID_IDENTITY', 'key id longer than 255 bytes');
  if (label.length > MAX_LABEL) throw new PicoHsmError('INVALID_IDENTITY', `label longer than ${MAX_LABEL} bytes`);
  const data = new Uint8Array(5 + id.keyId.length + label.length);
  new DataView(data.buffer).setUint32(0, id.slot >>> 0, false);
  data[4] = id.keyId.length;
  data.set(id.keyId, 5);
  data.set(label, 5 + id.keyId.length);
  return bech32Encode(IDENTITY_HRP, data).toUpperCase();
}

/** Decodes the identity's data (after Bech32), with pinpox's error texts. */
export function decodeIdentityData(data: Uint8Array): PicoHsmIdentity {
  if (data.length < 5) throw new PicoHsmError('INVALID_IDENTITY', 'identity data too short');
  const n = data[4]!;
  if (data.length < 5 + n) throw new PicoHsmError('INVALID_IDENTITY', 'identity data too short for key ID');
  const labelBytes = data.subarray(5 + n);
  if (labelBytes.length > MAX_LABEL) throw new PicoHsmError('INVALID_IDENTITY', 'identity label too long');
  let label: string;
  try {
    label = new TextDecoder('utf-8', { fatal: true }).decode(labelBytes);
  } catch (cause) {
    throw new PicoHsmError('INVALID_IDENTITY', 'identity label is not UTF-8', { cause });
  }
  return { slot: new DataView(data.buffer, data.byteOffset, 4).getUint32(0, false), keyId: Uint8Array.from(data.subarray(5, 5 + n)), label };
}

export function decodeIdentity(s: string): PicoHsmIdentity {
  let d: { hrp: string; data: Uint8Array };
  try {
    d = bech32Decode(s.trim());
  } catch (cause) {
    throw new PicoHsmError('INVALID_IDENTITY', `invalid identity: ${(cause as Error).message}`, { cause });
  }
  if (d.hrp !== IDENTITY_HRP) throw new PicoHsmError('INVALID_IDENTITY', `invalid identity plugin name: ${d.hrp.slice(0, 40)}`);
  return decodeIdentityData(d.data);
}
