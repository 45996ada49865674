/**
 * BER-TLV as ISO 7816-4 uses it: tags of one to three bytes, definite lengths in short form or
 * long form (0x81 / 0x82 / 0x83). Shared by the token side (tokens/) and the card side (sim/).
 * Parsing is strict: truncated data, over-long length fields and indefinite lengths throw.
 */

export class TlvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlvError';
  }
}

export interface Tlv {
  tag: number;
  value: Uint8Array;
}

/** Encodes a length field (short form up to 0x7F, then 0x81/0x82/0x83 long forms). */
export function encodeLength(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffff) throw new TlvError(`length ${n} out of range`);
  if (n < 0x80) return Uint8Array.of(n);
  if (n <= 0xff) return Uint8Array.of(0x81, n);
  if (n <= 0xffff) return Uint8Array.of(0x82, n >> 8, n & 0xff);
  return Uint8Array.of(0x83, n >> 16, (n >> 8) & 0xff, n & 0xff);
}

export function encodeTag(tag: number): Uint8Array {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xffffff) throw new TlvError(`tag ${tag} out of range`);
  if (tag <= 0xff) return Uint8Array.of(tag);
  if (tag <= 0xffff) return Uint8Array.of(tag >> 8, tag & 0xff);
  return Uint8Array.of(tag >> 16, (tag >> 8) & 0xff, tag & 0xff);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** One TLV: tag ‖ length ‖ value. */
export function tlv(tag: number, value: Uint8Array): Uint8Array {
  return concatBytes(encodeTag(tag), encodeLength(value.length), value);
}

/** Reads one TLV at `offset`; returns it and the offset just past it. */
export function readTlv(data: Uint8Array, offset = 0): { tlv: Tlv; next: number } {
  let i = offset;
  if (i >= data.length) throw new TlvError('truncated TLV: no tag');
  let tag = data[i++]!;
  if ((tag & 0x1f) === 0x1f) {
    // Multi-byte tag: subsequent bytes while bit 8 is set, at most three bytes in all.
    let more = true;
    let count = 1;
    while (more) {
      if (i >= data.length) throw new TlvError('truncated TLV: tag');
      const b = data[i++]!;
      tag = (tag << 8) | b;
      more = (b & 0x80) !== 0;
      if (++count > 3) throw new TlvError('tag longer than three bytes');
    }
  }
  if (i >= data.length) throw new TlvError('truncated TLV: no length');
  let len = data[i++]!;
  if (len === 0x80) throw new TlvError('indefinite length not allowed');
  if (len > 0x80) {
    const k = len & 0x7f;
    if (k > 3) throw new TlvError('length field longer than three bytes');
    if (i + k > data.length) throw new TlvError('truncated TLV: length');
    len = 0;
    for (let j = 0; j < k; j++) len = (len << 8) | data[i++]!;
  }
  if (i + len > data.length) throw new TlvError(`truncated TLV: value (tag 0x${tag.toString(16)})`);
  return { tlv: { tag, value: data.subarray(i, i + len) }, next: i + len };
}

/** Parses a sequence of TLVs that must fill `data` exactly. */
export function parseTlvs(data: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  let i = 0;
  while (i < data.length) {
    const { tlv: t, next } = readTlv(data, i);
    out.push(t);
    i = next;
  }
  return out;
}

/** Parses a TLV sequence into a map of first occurrences by tag. */
export function tlvMap(data: Uint8Array): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>();
  for (const t of parseTlvs(data)) if (!m.has(t.tag)) m.set(t.tag, t.value);
  return m;
}

/** The value of a single TLV with the expected tag that fills `data`. */
export function unwrapTlv(data: Uint8Array, tag: number): Uint8Array {
  const { tlv: t, next } = readTlv(data, 0);
  if (t.tag !== tag) throw new TlvError(`expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  if (next !== data.length) throw new TlvError('trailing bytes after TLV');
  return t.value;
}
