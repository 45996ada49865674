import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { p256 } from '@noble/curves/nist.js';
import { base64nopad, bech32, hex } from '@scure/base';
import {
  decodeRecipient,
  encodeRecipient,
  encodeTagRecipient,
  recipientTag,
} from '../../../src/plugins/yubikey/recipient.ts';
import { decodeStub, encodeStub } from '../../../src/plugins/yubikey/stub.ts';
import { parsePivP256, unwrapPivP256, wrapPivP256 } from '../../../src/plugins/yubikey/pivP256.ts';

// yubikey-piv.md §5 (computed from the published algorithm) and §2 (upstream integration test).
const V = {
  d: '31e08ce7c3394eaf680b1698eb6c6e2eaf1bfe438d12fa5b6a6b18577a83dedf',
  pk: '03b58866d50709d9b1207dac7341678b0256d5bf18e652cf75762bf560e2fe4a05',
  recipient: 'age1yubikey1qw6csek4quyanvfq0kk8xst83vp9d4dlrrn99nm4wc4l2c8zle9q2rsxz5p',
  tag: '03acfee8',
  e: '89c850bcd13ec80bc858b90c9e0e1f969f5d0d91829a93bb7a7bc113b54507b9',
  epkFull:
    '04096623d6667635e8da31345b2cb347de93fb713508250a99c102dbaf9964627b0d2a3121216fcf6172137d125a1c37b99c4e91275d0730b8e32f7bf92eda3980',
  ecdhX: '0def52b4451327149ddbb935cd0b1a08c2315194e35d88c75f11afd1fe389163',
  fileKey: '000102030405060708090a0b0c0d0e0f',
  args: ['A6z+6A', 'AglmI9ZmdjXo2jE0WyyzR96T+3E1CCUKmcEC26+ZZGJ7'],
  body: 'tOGlHuZ4s1GI+qXCb4xxWZ+xi/4drd4Pjw7Mx8NWCik',
  identity: 'AGE-PLUGIN-YUBIKEY-1FESMCQYZQWK0A6QMMP3FW',
};

describe('age1yubikey recipients', () => {
  it('encodes the vector key and its tag', () => {
    const pk = hex.decode(V.pk);
    expect(encodeRecipient(pk)).toBe(V.recipient);
    expect(hex.encode(recipientTag(pk))).toBe(V.tag);
    expect(hex.encode(decodeRecipient(V.recipient))).toBe(V.pk);
  });

  it('decodes the upstream integration-test recipient', () => {
    const r = 'age1yubikey1q2w7u3vpya839jxxuq8g0sedh3d740d4xvn639sqhr95ejj8vu3hyfumptt';
    const pk = decodeRecipient(r);
    expect(hex.encode(pk)).toBe('029dee4581274f12c8c6e00e87c32dbc5beabdb53327a89600b8cb4cca47672372');
    expect(hex.encode(recipientTag(pk))).toBe('ef3c99e5');
    expect(encodeTagRecipient(pk)).toBe('age1tag1q2w7u3vpya839jxxuq8g0sedh3d740d4xvn639sqhr95ejj8vu3hyr7y3gc');
    expect(() => decodeRecipient(encodeTagRecipient(pk))).toThrow('Invalid recipient');
    expect(hex.encode(decodeRecipient(encodeTagRecipient(pk), { allowTag: true }))).toBe(hex.encode(pk));
  });

  it('rejects garbage, wrong checksums, uppercase, uncompressed and off-curve points', () => {
    expect(() => decodeRecipient('')).toThrow('Invalid recipient');
    expect(() => decodeRecipient(V.recipient.slice(0, -1) + 'q')).toThrow('Invalid recipient');
    expect(() => decodeRecipient(V.recipient.toUpperCase())).toThrow('Invalid recipient');
    const full = p256.Point.fromBytes(hex.decode(V.pk)).toBytes(false);
    expect(() => decodeRecipient(bech32.encode('age1yubikey', bech32.toWords(full), false))).toThrow('Invalid recipient');
    // The first small x with no point on P-256 above it.
    const offCurve = Uint8Array.of(2, ...new Uint8Array(32));
    for (;;) {
      try {
        p256.Point.fromBytes(offCurve);
        offCurve[32]!++;
      } catch {
        break;
      }
    }
    expect(() => decodeRecipient(bech32.encode('age1yubikey', bech32.toWords(offCurve), false))).toThrow('Invalid recipient');
  });
});

describe('AGE-PLUGIN-YUBIKEY stubs', () => {
  it('encodes the vector stub (serial 12345678, slot 0x82)', () => {
    const stub = { serial: 12345678, slot: 0x82, tag: hex.decode(V.tag) };
    expect(encodeStub(stub)).toBe(V.identity);
    expect(V.identity).toHaveLength(41);
    const back = decodeStub(V.identity);
    expect(back.serial).toBe(12345678);
    expect(back.slot).toBe(0x82);
    expect(hex.encode(back.tag)).toBe(V.tag);
  });

  it('rejects the empty -j yubikey identity and non-retired slots', () => {
    expect(() => decodeStub('AGE-PLUGIN-YUBIKEY-18S3VSX')).toThrow('Invalid YubiKey stub');
    expect(() => encodeStub({ serial: 1, slot: 0x9a, tag: new Uint8Array(4) })).toThrow();
  });

  it('round-trips any serial, retired slot and tag', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0x82, max: 0x95 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), (serial, slot, tag) => {
        const s = encodeStub({ serial, slot, tag });
        const d = decodeStub(s);
        return d.serial === serial && d.slot === slot && hex.encode(d.tag) === hex.encode(tag) && s === s.toUpperCase();
      }),
    );
  });
});

describe('piv-p256 stanzas', () => {
  it('reproduces the published vector byte for byte', () => {
    const st = wrapPivP256(hex.decode(V.fileKey), hex.decode(V.pk), hex.decode(V.e));
    expect(st.type).toBe('piv-p256');
    expect(st.args).toEqual(V.args);
    expect(base64nopad.encode(st.body)).toBe(V.body);
  });

  it('unwraps the vector with the card ECDH given the 65-byte epk', async () => {
    const parsed = parsePivP256({ type: 'piv-p256', args: V.args, body: base64nopad.decode(V.body) });
    expect(parsed).not.toBeNull();
    const seen: string[] = [];
    const key = await unwrapPivP256(parsed!, hex.decode(V.pk), async (peer) => {
      seen.push(hex.encode(peer));
      return p256.getSharedSecret(hex.decode(V.d), peer, true).subarray(1);
    });
    expect(seen).toEqual([V.epkFull]);
    expect(hex.encode(p256.getSharedSecret(hex.decode(V.d), hex.decode(V.epkFull), true).subarray(1))).toBe(V.ecdhX);
    expect(hex.encode(key)).toBe(V.fileKey);
  });

  it('rejects malformed stanzas of every kind', () => {
    const ok = { type: 'piv-p256', args: V.args, body: base64nopad.decode(V.body) };
    expect(parsePivP256(ok)).not.toBeNull();
    expect(parsePivP256({ ...ok, args: [V.args[0]!] })).toBeNull();
    expect(parsePivP256({ ...ok, args: [...V.args, 'x'] })).toBeNull();
    expect(parsePivP256({ ...ok, args: ['A6z+6A==', V.args[1]!] })).toBeNull();
    expect(parsePivP256({ ...ok, args: [V.args[0]!, V.args[1]!.slice(1)] })).toBeNull();
    expect(parsePivP256({ ...ok, body: ok.body.subarray(1) })).toBeNull();
    const full = base64nopad.encode(hex.decode(V.epkFull));
    expect(parsePivP256({ ...ok, args: [V.args[0]!, full] })).toBeNull();
    expect(parsePivP256({ ...ok, args: [V.args[0]!, base64nopad.encode(Uint8Array.of(4, ...new Uint8Array(32)))] })).toBeNull();
  });

  it('a wrong key fails the AEAD with a typed error that holds no key', async () => {
    const parsed = parsePivP256({ type: 'piv-p256', args: V.args, body: base64nopad.decode(V.body) })!;
    const other = p256.utils.randomSecretKey();
    await expect(
      unwrapPivP256(parsed, hex.decode(V.pk), async (peer) => p256.getSharedSecret(other, peer, true).subarray(1)),
    ).rejects.toMatchObject({ code: 'DECRYPT_FAILED', message: 'Failed to decrypt YubiKey stanza' });
  });

  it('wrap then unwrap is the identity for random keys', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 16, maxLength: 16 }), async (fileKey) => {
        const d = p256.utils.randomSecretKey();
        const pk = p256.getPublicKey(d, true);
        const st = wrapPivP256(fileKey, pk);
        const parsed = parsePivP256(st)!;
        const out = await unwrapPivP256(parsed, pk, async (peer) => p256.getSharedSecret(d, peer, true).subarray(1));
        return hex.encode(out) === hex.encode(fileKey);
      }),
      { numRuns: 25 },
    );
  });
});

describe('PIN entry checks (as the reference)', () => {
  it('recognises too short, too long and an accidental OTP touch', async () => {
    const { otpPrefix, pinEntryProblem } = await import('../../../src/plugins/yubikey/pin.ts');
    expect(otpPrefix(12345678)).toBe('ccccccnrhbfu');
    expect(pinEntryProblem('12345', 12345678)).toBe('PIN was too short.');
    expect(pinEntryProblem('123456789', 12345678)).toBe('PIN was too long.');
    expect(pinEntryProblem('ccccccnrhbfu' + 'c'.repeat(32), 12345678)).toBe('Did you touch the YubiKey by accident?');
    expect(pinEntryProblem('123456', 12345678)).toBeNull();
    expect(pinEntryProblem('ab©def', 12345678)).toBeNull(); // 7 bytes
    expect(pinEntryProblem('ab©de©fg', 12345678)).toBe('PIN was too long.'); // 8 characters, 10 bytes
  });
});
