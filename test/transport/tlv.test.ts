import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeLength, parseTlvs, readTlv, tlv, TlvError, unwrapTlv } from '../../src/transport/tlv.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

describe('BER-TLV', () => {
  it('encodes lengths in short and long form', () => {
    expect(Buffer.from(encodeLength(0x7f)).toString('hex')).toBe('7f');
    expect(Buffer.from(encodeLength(0x80)).toString('hex')).toBe('8180');
    expect(Buffer.from(encodeLength(0x100)).toString('hex')).toBe('820100');
    expect(Buffer.from(encodeLength(0x10000)).toString('hex')).toBe('83010000');
  });

  it('reads multi-byte tags (PIV 0x7F49, 0x5FC105)', () => {
    const t = readTlv(hex('7f49 03 860101')).tlv;
    expect(t.tag).toBe(0x7f49);
    const u = readTlv(hex('5fc105 01 aa')).tlv;
    expect(u.tag).toBe(0x5fc105);
    expect(unwrapTlv(hex('53 02 0102'), 0x53)).toEqual(hex('0102'));
  });

  it('rejects truncation, indefinite length and trailing bytes', () => {
    expect(() => readTlv(hex('53 05 0102'))).toThrow(TlvError);
    expect(() => readTlv(hex('53 80'))).toThrow(/indefinite/);
    expect(() => readTlv(hex('53 84 00000001 00'))).toThrow(TlvError);
    expect(() => unwrapTlv(hex('53 01 01 00'), 0x53)).toThrow(/trailing/);
    expect(() => readTlv(hex('5f'))).toThrow(TlvError);
  });

  it('round-trips any sequence of TLVs', () => {
    const tagArb = fc.oneof(
      fc.integer({ min: 0x01, max: 0x1e }),
      fc.integer({ min: 0x20, max: 0x7f }).filter((t) => (t & 0x1f) !== 0x1f),
      fc.constantFrom(0x7f49, 0x5f50, 0x5fc105, 0x7f61),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(tagArb, fc.uint8Array({ maxLength: 600 })), { maxLength: 5 }), (items) => {
        const enc = Buffer.concat(items.map(([t, v]) => tlv(t, v)));
        const dec = parseTlvs(enc);
        expect(dec.map((d) => [d.tag, Buffer.from(d.value).toString('hex')])).toEqual(
          items.map(([t, v]) => [t, Buffer.from(v).toString('hex')]),
        );
      }),
    );
  });

  it('never crashes on arbitrary bytes: parses or throws TlvError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          parseTlvs(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(TlvError);
        }
      }),
    );
  });
});
