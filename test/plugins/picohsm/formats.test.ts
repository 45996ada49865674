/**
 * The Pico HSM family's formats: pinpox/age-plugin-picohsm's recipient, identity and `picohsm`
 * stanza, checked against the reference's computed vector, property tests, and an independent
 * implementation of the published algorithm in Python `cryptography` (both directions, also with
 * the ECDH done by the virtual Pico HSM).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { p256 } from '@noble/curves/nist.js';
import { base64nopad } from '@scure/base';
import { decodeIdentity, decodeIdentityData, describeSlot, deviceTag, encodeIdentity, slotWord } from '../../../src/plugins/picohsm/identity.ts';
import { decodeRecipient, encodeRecipient, encodeTagRecipient, fingerprint, formatFingerprint } from '../../../src/plugins/picohsm/recipient.ts';
import { parsePicoHsm, picoHsmMatches, unwrapPicoHsm, wrapPicoHsm } from '../../../src/plugins/picohsm/stanza.ts';
import { VirtualPicoHsm } from '../../../src/sim/picohsm/card.ts';
import { inProcessReaders } from '../../../src/sim/inProcess.ts';
import { ScHsmSession } from '../../../src/tokens/schsm/session.ts';
import { ROOT, run } from '../../helpers/run.ts';
import { findTool, itWith } from '../../helpers/tools.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// picohsm-age-plugin.md §11 (computed from the published algorithm).
const V = {
  scalar: '4fa990777e14fa2fbaaf351295ab4863d61541bc281b6598b4599c46f29923a2',
  pub: '046e617878416a1efecf841d0253aa5b11bbcff86137a3049ae3994fb66812c88e315d764ff81727e8c3b4b031324089a8fd9a0f6a986debfa8ced75f1a3de7530',
  ephScalar: 'adadad87a154eb22640c7f35d617b25c2b76bdbe0b294b97430bc96202fb8db4',
  fileKey: '000102030405060708090a0b0c0d0e0f',
  recipient: 'age1picohsm1q3hxz7rcg94palk0sswsy5a2tvgmhnlcvym6xpy6uwv5ldngztyguv2awe8ls9e8arpmfvp3xfqgn28ang8k4xrda0agemt47x3auafs358dn4',
  args: ['BNCpqnD5wusgzjGmabPTov2x/KXxyGVBVrwtTbF2bv/ou14Bs4U9t0ey/Cr5jtsXo8gzaFceuDfRabJHpMFFUz8', 'iHZrig/Z+2Y'],
  body: 'xvOEKqrjpziJs1AZLtrNnRCwUZ1x4idskUKyCr8CyxY',
};

const softEcdh = (scalar: Uint8Array) => async (peer: Uint8Array) => p256.getSharedSecret(scalar, peer, true).subarray(1);

describe('picohsm formats: the reference vector', () => {
  it('recipient and fingerprint', () => {
    expect(toHex(p256.getPublicKey(hex(V.scalar), false))).toBe(V.pub);
    expect(encodeRecipient(hex(V.pub))).toBe(V.recipient);
    expect(V.recipient).toHaveLength(122);
    expect(decodeRecipient(V.recipient)).toEqual(hex(V.pub));
    expect(formatFingerprint(fingerprint(hex(V.pub)))).toBe('88:76:6b:8a:0f:d9:fb:66');
  });

  it('the stanza, byte for byte, and back', async () => {
    const s = wrapPicoHsm(hex(V.fileKey), hex(V.pub), hex(V.ephScalar));
    expect(s.args).toEqual(V.args);
    expect(base64nopad.encode(s.body)).toBe(V.body);
    const parsed = parsePicoHsm(s)!;
    expect(picoHsmMatches(parsed, hex(V.pub))).toBe(true);
    expect(toHex((await unwrapPicoHsm(parsed, hex(V.pub), softEcdh(hex(V.scalar))))!)).toBe(V.fileKey);
  });

  it('the one-argument form (no fingerprint) is read and tried', async () => {
    const parsed = parsePicoHsm({ type: 'picohsm', args: [V.args[0]!], body: base64nopad.decode(V.body) })!;
    expect(parsed.fingerprint).toBeNull();
    expect(picoHsmMatches(parsed, p256.getPublicKey(p256.utils.randomSecretKey(), false))).toBe(true);
    expect(toHex((await unwrapPicoHsm(parsed, hex(V.pub), softEcdh(hex(V.scalar))))!)).toBe(V.fileKey);
  });

  it('identity layout: the reference example and the empty identity', () => {
    const id = { slot: 0, keyId: hex('a1b2c3d4'), label: 'age-key' };
    expect(encodeIdentity(id)).toBe('AGE-PLUGIN-PICOHSM-1QQQQQQQY5XEV84RPVAJJ66M90YWV7QCZ');
    expect(decodeIdentity('AGE-PLUGIN-PICOHSM-1QQQQQQQY5XEV84RPVAJJ66M90YWV7QCZ')).toEqual(id);
    expect(() => decodeIdentity('AGE-PLUGIN-PICOHSM-1J4GMX5')).toThrow('identity data too short');
    expect(() => decodeIdentityData(hex('0000000005a1b2'))).toThrow('identity data too short for key ID');
    expect(() => decodeIdentity('AGE-PLUGIN-YUBIKEY-1QQQQQQQY5XEV84RPVAJJ66M90YWV7QCZ')).toThrow();
  });
});

describe('picohsm formats: rules', () => {
  it('the slot word names the device and the key type; pinpox identities (slot 0) are P-256 on any device', () => {
    const tag = deviceTag('ESPH1234567');
    expect(tag).toBeLessThan(1 << 24);
    expect(describeSlot(slotWord('x25519', tag))).toEqual({ keyType: 'x25519', deviceTag: tag });
    expect(describeSlot(slotWord('p256', tag))).toEqual({ keyType: 'p256', deviceTag: tag });
    expect(describeSlot(0)).toEqual({ keyType: 'p256', deviceTag: null });
    expect(deviceTag('ESPH1234568')).not.toBe(tag);
  });

  it('recipients: length, compression and point checks with pinpox-style texts', () => {
    const pub = hex(V.pub);
    expect(() => encodeRecipient(pub.subarray(0, 64))).toThrow('invalid recipient data length: 64 (expected 65)');
    const c = p256.Point.fromBytes(pub).toBytes(true);
    expect(() => encodeRecipient(Uint8Array.from([...c, ...new Uint8Array(32)]))).toThrow('public key must be uncompressed (start with 0x04)');
    const off = pub.slice();
    off[64] = off[64]! ^ 1;
    expect(() => encodeRecipient(off)).toThrow('not a valid P-256 public key');
    expect(encodeTagRecipient(pub)).toMatch(/^age1tag1[02-9ac-hj-np-z]{59}$/);
    expect(() => decodeRecipient(V.recipient.toUpperCase().slice(0, 60) + V.recipient.slice(60))).toThrow();
  });

  it('malformed stanzas: argument count, base64, point, body', () => {
    const ok = wrapPicoHsm(hex(V.fileKey), hex(V.pub));
    expect(parsePicoHsm({ ...ok, type: 'X25519' })).toBeNull();
    expect(() => parsePicoHsm({ ...ok, args: [] })).toThrow('expected 1 or 2 arguments');
    expect(() => parsePicoHsm({ ...ok, args: [...ok.args, 'x'] })).toThrow('expected 1 or 2 arguments');
    expect(() => parsePicoHsm({ ...ok, args: [ok.args[0]! + 'A', ok.args[1]!] })).toThrow('ephemeral public key');
    expect(() => parsePicoHsm({ ...ok, args: [ok.args[0]!.slice(0, -1) + '9', ok.args[1]!] })).toThrow(); // non-canonical tail bits or a bad point
    expect(() => parsePicoHsm({ ...ok, args: [ok.args[0]!, 'iHZrig/Z+2'] })).toThrow('fingerprint');
    expect(() => parsePicoHsm({ ...ok, body: ok.body.subarray(0, 31) })).toThrow('invalid ciphertext size');
  });

  it('property: identities and recipients round-trip; stanzas open only with their key', async () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: 255 }), fc.string({ maxLength: 100 }), (slot, keyId, label) => {
        const s = encodeIdentity({ slot, keyId, label });
        expect(decodeIdentity(s)).toEqual({ slot, keyId: Uint8Array.from(keyId), label });
        expect(decodeIdentity(s.toLowerCase())).toEqual({ slot, keyId: Uint8Array.from(keyId), label });
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => {
        try {
          decodeIdentityData(junk);
        } catch (e) {
          expect((e as Error).name).toBe('PicoHsmError');
        }
      }),
      { numRuns: 300 },
    );
    const a = p256.utils.randomSecretKey();
    const b = p256.utils.randomSecretKey();
    const s = parsePicoHsm(wrapPicoHsm(hex(V.fileKey), p256.getPublicKey(a, false)))!;
    expect(picoHsmMatches(s, p256.getPublicKey(b, false))).toBe(false);
    expect(await unwrapPicoHsm(s, p256.getPublicKey(b, false), softEcdh(b))).toBeNull();
  });
});

const python = findTool('/usr/bin/python3');
const PY = `${ROOT}test/helpers/picohsm_stanza.py`;

describe('picohsm stanzas against an independent implementation (Python cryptography)', () => {
  itWith([python])('stanzas made in Python open with our code, with the ECDH on the virtual Pico HSM', async () => {
    const hsm = new VirtualPicoHsm({ port: 0 });
    await hsm.initialiseWith('648219', '3537363231383830');
    const readers = inProcessReaders({ r: hsm });
    const session = new ScHsmSession(await readers.connect('r'));
    await session.select();
    await session.verifyPin('648219');
    const { publicKey } = await session.generateKey(1, 'p256', { chr: 'KBAGE00001' });
    for (let i = 0; i < 3; i++) {
      const fileKey = toHex(p256.utils.randomSecretKey().subarray(0, 16));
      const py = await run('/usr/bin/python3', [PY, 'wrap', toHex(publicKey), fileKey]);
      expect(py.code, py.stderr).toBe(0);
      const [eph, fp, body] = py.stdout.trim().split(' ');
      const parsed = parsePicoHsm({ type: 'picohsm', args: [eph!, fp!], body: base64nopad.decode(body!) })!;
      expect(picoHsmMatches(parsed, publicKey)).toBe(true);
      const got = await unwrapPicoHsm(parsed, publicKey, (peer) => session.ecdh(1, peer));
      expect(toHex(got!)).toBe(fileKey);
    }
  });

  itWith([python])('our stanzas open in Python, with and without the fingerprint argument', async () => {
    for (let i = 0; i < 3; i++) {
      const scalar = p256.utils.randomSecretKey();
      const fileKey = p256.utils.randomSecretKey().subarray(0, 16);
      const s = wrapPicoHsm(fileKey, p256.getPublicKey(scalar, false));
      const py = await run('/usr/bin/python3', [PY, 'unwrap', toHex(scalar), s.args[0]!, i === 2 ? '-' : s.args[1]!, base64nopad.encode(s.body)]);
      expect(py.stdout.trim(), py.stderr).toBe(toHex(fileKey));
    }
    // A stanza for another key is refused by the fingerprint check.
    const other = wrapPicoHsm(hex(V.fileKey), p256.getPublicKey(p256.utils.randomSecretKey(), false));
    const py = await run('/usr/bin/python3', [PY, 'unwrap', V.scalar, other.args[0]!, other.args[1]!, base64nopad.encode(other.body)]);
    expect(py.code).toBe(1);
  });
});
