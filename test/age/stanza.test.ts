import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { encodeStanza, ProtocolError, StanzaReader, type Stanza } from '../../src/age/stanza.ts';

async function readAll(text: string | Uint8Array, chunk = 7): Promise<Stanza[]> {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : Buffer.from(text);
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  const r = new StanzaReader(Readable.from(parts));
  const out: Stanza[] = [];
  for (let s = await r.next(); s; s = await r.next()) out.push(s);
  return out;
}

const arg = fc.stringMatching(/^[\x21-\x7e]{1,20}$/);
const stanza = fc.record({ type: arg, args: fc.array(arg, { maxLength: 5 }), body: fc.uint8Array({ maxLength: 300 }) });

describe('stanza codec', () => {
  it('encodes the spec examples byte for byte', () => {
    expect(encodeStanza({ type: 'done', args: [], body: new Uint8Array(0) })).toBe('-> done\n\n');
    expect(encodeStanza({ type: 'file-key', args: ['0'], body: Uint8Array.from({ length: 16 }, (_, i) => i) })).toBe('-> file-key 0\nAAECAwQFBgcICQoLDA0ODw\n');
    const b48 = encodeStanza({ type: 'x', args: [], body: new Uint8Array(48) });
    expect(b48).toBe(`-> x\n${'A'.repeat(64)}\n\n`);
    expect(() => encodeStanza({ type: 'a b', args: [], body: new Uint8Array(0) })).toThrow(ProtocolError);
    expect(() => encodeStanza({ type: 'x', args: [''], body: new Uint8Array(0) })).toThrow(ProtocolError);
  });

  it('write then read is the identity for any valid stanza sequence, however the bytes are split', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stanza, { maxLength: 4 }), fc.integer({ min: 1, max: 70 }), async (list, chunk) => {
        const back = await readAll(list.map(encodeStanza).join(''), chunk);
        expect(back.map((s) => ({ ...s, body: [...s.body] }))).toEqual(list.map((s) => ({ ...s, body: [...s.body] })));
      }),
      { numRuns: 200 },
    );
  });

  const bad: [string, string][] = [
    ['non-canonical base64 (last char has unused bits set)', '-> x\nAB\n'],
    ['padding', '-> x\nAA==\n'],
    ['a line longer than 64 columns', `-> x\n${'A'.repeat(68)}\n`],
    ['CR', '-> x\r\n\n'],
    ['CR in the body', '-> x\nAAAA\r\n'],
    ['EOF inside the body', `-> x\n${'A'.repeat(64)}\n`],
    ['EOF inside a line', '-> x'],
    ['no arrow', 'x y\n\n'],
    ['empty argument', '-> x  y\n\n'],
    ['no type', '-> \n\n'],
    ['a non-base64 character', '-> x\nAA*A\n'],
    ['a non-VCHAR argument', '-> x \u00e9\n\n'],
  ];
  for (const [what, text] of bad) {
    it(`rejects ${what} with ProtocolError`, async () => {
      await expect(readAll(text)).rejects.toBeInstanceOf(ProtocolError);
    });
  }

  it('any byte string either parses or raises ProtocolError (never another error, never a hang)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.array(stanza, { maxLength: 3 }).chain((l) =>
            fc.tuple(fc.constant(Buffer.from(l.map(encodeStanza).join(''), 'latin1')), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, i, v]) => {
              if (b.length === 0) return new Uint8Array(b);
              const c = Uint8Array.from(b);
              c[i % c.length] = v;
              return c;
            }),
          ),
        ),
        async (bytes) => {
          try {
            await readAll(bytes);
          } catch (e) {
            expect(e).toBeInstanceOf(ProtocolError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
