/**
 * The agent protocol's framing and validation: frames split anywhere reassemble, oversized
 * lengths are refused before allocation, other versions and malformed messages are errors, and
 * sealed values open only on the other side, in order.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Handshake } from '../../src/agent/channel.ts';
import { encodeFrame, FrameReader, MAX_FRAME, parseAgentMessage, parseClientMessage, PROTOCOL_VERSION } from '../../src/agent/protocol.ts';

describe('agent protocol', () => {
  it('frames survive any split of the byte stream', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 200 }), { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 10 }), (texts, cuts) => {
        const msgs = texts.map((text, i) => ({ v: PROTOCOL_VERSION, t: 'ui' as const, seq: i, op: 'message' as const, text }));
        const bytes = Buffer.concat(msgs.map((m) => encodeFrame(m)));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const r = new FrameReader();
        const out: unknown[] = [];
        let prev = 0;
        for (const p of [...points, bytes.length]) {
          out.push(...r.push(new Uint8Array(bytes.subarray(prev, p))));
          prev = p;
        }
        expect(out.map((m) => parseAgentMessage(m))).toEqual(msgs);
      }),
    );
  });

  it('a length over the limit is refused before the body arrives; non-JSON is refused', () => {
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, MAX_FRAME + 1);
    expect(() => new FrameReader().push(head)).toThrow(/exceeds/);
    const bad = new Uint8Array([0, 0, 0, 2, 0x7b, 0xff]);
    expect(() => new FrameReader().push(bad)).toThrow(/not UTF-8 JSON/);
    expect(() => encodeFrame({ v: 1, t: 'ui', seq: 1, op: 'message', text: 'x'.repeat(MAX_FRAME) })).toThrow(/exceeds/);
  });

  it('validates what a client sends: version, types, bounds', () => {
    expect(() => parseClientMessage({ v: 2, t: 'status' })).toThrow(expect.objectContaining({ code: 'VERSION' }));
    expect(() => parseClientMessage({ t: 'status' })).toThrow(/version \? is not supported/);
    expect(() => parseClientMessage([1])).toThrow(/JSON object/);
    expect(() => parseClientMessage({ v: 1, t: 'frobnicate' })).toThrow(/unknown message type/);
    expect(() => parseClientMessage({ v: 1, t: 'unwrap', family: 'yubikey', identities: Array(65).fill('x'), files: [] })).toThrow(/at most 64/);
    expect(() => parseClientMessage({ v: 1, t: 'unwrap', family: 'yubikey', identities: [], files: [[{ type: 'x', args: [], body: '!!' }]] })).toThrow(/not base64/);
    expect(() => parseClientMessage({ v: 1, t: 'ui-reply', seq: -1, ok: true })).toThrow(/integer/);
    const identities = [{ index: 2, plugin: 'yubikey', data: 'AAAA' }];
    expect(parseClientMessage({ v: 1, t: 'unwrap', family: 'yubikey', identities, files: [[{ type: 'piv-p256', args: ['a'], body: 'AAAA' }]], interactive: true })).toEqual({
      v: 1,
      t: 'unwrap',
      family: 'yubikey',
      identities,
      files: [[{ type: 'piv-p256', args: ['a'], body: 'AAAA' }]],
      interactive: true,
      skipNotFound: false,
    });
    expect(() => parseClientMessage({ v: 1, t: 'unwrap', family: 'yubikey', identities: ['A'], files: [] })).toThrow(/expected an identity/);
    expect(parseClientMessage({ v: 1, t: 'ui-reply', seq: 3, ok: false, code: 'whatever', message: 'no' })).toEqual({ v: 1, t: 'ui-reply', seq: 3, ok: false, code: 'FAIL', message: 'no' });
  });

  it('sealed values: the other side opens them in order; tampering and replay fail', () => {
    const a = new Handshake();
    const b = new Handshake();
    const client = a.finish(b.publicKey, 'client');
    const agent = b.finish(a.publicKey, 'agent');
    const pin = new TextEncoder().encode('471129');
    const s1 = client.seal(pin);
    const s2 = client.seal(pin);
    expect(s1).not.toBe(s2);
    expect(Buffer.from(s1, 'base64').includes(Buffer.from(pin))).toBe(false);
    expect(agent.open(s1)).toEqual(pin);
    expect(() => agent.open(s1)).toThrow(/does not open/); // replayed: the counter moved on
    const key = new Uint8Array(16).fill(9);
    const k = agent.seal(key);
    expect(client.open(k)).toEqual(key);
    const c = new Handshake();
    const other = c.finish(b.publicKey, 'client');
    expect(() => other.open(agent.seal(key))).toThrow(/does not open/);
    expect(() => new Handshake().finish(Buffer.alloc(31).toString('base64'), 'client')).toThrow(/32 bytes/);
  });
});
