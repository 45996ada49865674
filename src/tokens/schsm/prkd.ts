/**
 * PKCS#15 private key descriptions (PRKD, EF C4<id>) as the SmartCard-HSM keeps them beside each
 * key: OpenSC's PKCS#11 module takes a key's CKA_LABEL and CKA_ID from here. Only what an age key
 * needs is read (label, id, usage) and written (an EC key description in the layout OpenSC itself
 * writes: label, private + modifiable flags, auth id 01, id, usage, key reference, field size).
 */
import { concatBytes, parseTlvs, readTlv, tlv, tlvMap, TlvError } from '../../transport/tlv.ts';

export interface KeyDescription {
  label: string;
  /** The PKCS#15 iD (OpenSC's CKA_ID). */
  id: Uint8Array;
  /** KeyUsageFlags bits, bit 0 = encrypt … bit 8 = derive. */
  usage: number;
  /** true for an EC key description ([0] privateECKey), false otherwise (RSA, …). */
  ec: boolean;
}

export const Usage = { SIGN: 1 << 2, DERIVE: 1 << 8 } as const;

const MAX_LABEL = 255;
const MAX_ID = 255;

function bitStringToFlags(v: Uint8Array): number {
  let flags = 0;
  for (let i = 1; i < v.length && i <= 4; i++) {
    for (let b = 0; b < 8; b++) if (v[i]! & (0x80 >> b)) flags |= 1 << ((i - 1) * 8 + b);
  }
  return flags;
}

/** DER named-bit-list BIT STRING: as few bits as the highest set flag needs. */
function flagsToBitString(flags: number): Uint8Array {
  const bits = flags === 0 ? 0 : 32 - Math.clz32(flags);
  const bytes = Math.ceil(bits / 8);
  const out = new Uint8Array(1 + bytes);
  out[0] = bytes * 8 - bits;
  for (let i = 0; i < bits; i++) if (flags & (1 << i)) out[1 + (i >> 3)]! |= 0x80 >> (i & 7);
  return out;
}

/** Decodes a PRKD entry; null when it is not one (empty or foreign file). */
export function decodePrkd(data: Uint8Array): KeyDescription | null {
  try {
    const { tlv: outer } = readTlv(data, 0);
    if (outer.tag !== 0xa0 && outer.tag !== 0x30) return null;
    const parts = parseTlvs(outer.value);
    const common = parts[0]?.tag === 0x30 ? tlvMap(parts[0].value) : null;
    const key = parts[1]?.tag === 0x30 ? tlvMap(parts[1].value) : null;
    if (!key) return null;
    const id = key.get(0x04);
    if (!id) return null;
    const labelBytes = common?.get(0x0c) ?? new Uint8Array(0);
    const usage = key.get(0x03);
    return { label: new TextDecoder('utf-8', { fatal: false }).decode(labelBytes), id: Uint8Array.from(id), usage: usage ? bitStringToFlags(usage) : 0, ec: outer.tag === 0xa0 };
  } catch (e) {
    if (e instanceof TlvError) return null;
    throw e;
  }
}

/** Encodes an EC key description for key reference `keyRef`. */
export function encodeEcPrkd(desc: { label: string; id: Uint8Array; usage: number; keyRef: number; fieldSize: number }): Uint8Array {
  const label = new TextEncoder().encode(desc.label);
  if (label.length > MAX_LABEL) throw new RangeError(`label longer than ${MAX_LABEL} bytes`);
  if (desc.id.length === 0 || desc.id.length > MAX_ID) throw new RangeError('key id must be 1 to 255 bytes');
  const common = concatBytes(tlv(0x0c, label), tlv(0x03, Uint8Array.of(0x06, 0xc0)), tlv(0x04, Uint8Array.of(0x01)));
  const key = concatBytes(tlv(0x04, desc.id), tlv(0x03, flagsToBitString(desc.usage)), tlv(0x02, Uint8Array.of(desc.keyRef)));
  const ecAttrs = tlv(0x30, concatBytes(tlv(0x30, tlv(0x04, new Uint8Array(0))), tlv(0x02, Uint8Array.of(desc.fieldSize >> 8, desc.fieldSize & 0xff))));
  return tlv(0xa0, concatBytes(tlv(0x30, common), tlv(0x30, key), tlv(0xa1, ecAttrs)));
}
