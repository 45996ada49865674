import { describe, expect, it } from 'vitest';
import { ApduProtocol, encodeApdu } from '../../src/transport/apdu.ts';
import { parseCommand } from '../../src/sim/apdu.ts';
import type { ApduTransport } from '../../src/transport/types.ts';

/** Records every command APDU and answers each with `reply`. */
function recorder(reply: (cmd: Uint8Array) => Uint8Array = () => Uint8Array.of(0x90, 0x00)): ApduTransport & { sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  return {
    sent,
    async transmit(cmd) {
      sent.push(cmd);
      return reply(cmd);
    },
    async close() {},
  };
}

describe('APDU formats', () => {
  it('short: case 1 and case 3, Lc one byte', () => {
    expect([...encodeApdu('short', 0, 0xa4, 4, 0)]).toEqual([0, 0xa4, 4, 0]);
    expect([...encodeApdu('short', 0, 0x20, 0, 0x80, Uint8Array.of(1, 2))]).toEqual([0, 0x20, 0, 0x80, 2, 1, 2]);
    expect(() => encodeApdu('short', 0, 0, 0, 0, new Uint8Array(256))).toThrow(RangeError);
  });

  it('extended: case 2E (00 Le Le) and 4E (00 Lc Lc data Le Le), as the card side parses them', () => {
    expect([...encodeApdu('extended', 0x80, 0x62, 1, 0x80)]).toEqual([0x80, 0x62, 1, 0x80, 0, 0, 0]);
    const data = new Uint8Array(300).map((_, i) => i & 0xff);
    const cmd = encodeApdu('extended', 0x80, 0x62, 1, 0x80, data);
    expect(cmd.length).toBe(4 + 3 + 300 + 2);
    const parsed = parseCommand(cmd);
    expect(parsed).toMatchObject({ cla: 0x80, ins: 0x62, p1: 1, p2: 0x80, extended: true, le: 65536 });
    expect([...parsed.data]).toEqual([...data]);
    expect(parseCommand(encodeApdu('extended', 0, 0xca, 0, 0))).toMatchObject({ extended: true, le: 65536, data: new Uint8Array(0) });
  });

  it('is chosen per connection: 300 bytes go in two chained short APDUs, or one extended APDU', async () => {
    const data = new Uint8Array(300).fill(7);
    const short = recorder();
    await new ApduProtocol(short).send('test', 0, 0xdb, 0x3f, 0xff, data);
    expect(short.sent.map((c) => [c[0], c[4]])).toEqual([
      [0x10, 255],
      [0x00, 45],
    ]);
    const ext = recorder();
    const p = new ApduProtocol(ext);
    p.setFormat('extended');
    expect(p.format).toBe('extended');
    await p.send('test', 0, 0xdb, 0x3f, 0xff, data);
    expect(ext.sent).toHaveLength(1);
    expect(parseCommand(ext.sent[0]!).data).toEqual(data);
    expect(new ApduProtocol(recorder(), { format: 'extended' }).format).toBe('extended');
  });

  it('61xx response chaining works in either format', async () => {
    let n = 0;
    const t = recorder(() => (n++ === 0 ? Uint8Array.of(1, 2, 0x61, 0x02) : Uint8Array.of(3, 4, 0x90, 0x00)));
    expect([...(await new ApduProtocol(t, { format: 'extended' }).send('test', 0, 0xcb, 0x3f, 0xff))]).toEqual([1, 2, 3, 4]);
    expect([...t.sent[1]!]).toEqual([0, 0xc0, 0, 0, 0, 0, 0]); // GET RESPONSE, case 2E
  });
});
