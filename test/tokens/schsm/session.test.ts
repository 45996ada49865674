/**
 * ScHsmSession against the virtual Pico HSM in-process (no pcscd): every card operation, the
 * status words turned into typed errors, the uninitialised device, the button, removal.
 */
import { describe, expect, it } from 'vitest';
import { p256 } from '@noble/curves/nist.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { VirtualPicoHsm } from '../../../src/sim/picohsm/card.ts';
import { inProcessReaders } from '../../../src/sim/inProcess.ts';
import { ScHsmSession } from '../../../src/tokens/schsm/session.ts';
import { decodePrkd, encodeEcPrkd, Usage } from '../../../src/tokens/schsm/prkd.ts';

const PIN = '648219';
const SO_PIN = '3537363231383830';

async function device(opts: { initialise?: boolean; button?: ConstructorParameters<typeof VirtualPicoHsm>[0]['button'] } = {}) {
  const hsm = new VirtualPicoHsm({ port: 0, serial: 'ESPH0000042', ...(opts.button ? { button: opts.button } : {}) });
  if (opts.initialise !== false) await hsm.initialiseWith(PIN, SO_PIN);
  const readers = inProcessReaders({ 'Reader 0': hsm });
  const session = new ScHsmSession(await readers.connect('Reader 0'));
  return { hsm, readers, session };
}

const raw = async (s: ScHsmSession, hex: string) => Buffer.from(await s.transport.transmit(Buffer.from(hex.replace(/ /g, ''), 'hex'))).toString('hex').toUpperCase();

describe('ScHsmSession', () => {
  it('an uninitialised device is recognised as such', async () => {
    const { session } = await device({ initialise: false });
    expect(await session.select()).toEqual({ version: [5, 4], options: 1, button: false });
    expect(await session.pinStatus()).toEqual({ initialised: false });
    await expect(session.verifyPin(PIN)).rejects.toMatchObject({ code: 'NOT_INITIALISED' });
    await expect(session.serial()).rejects.toMatchObject({ code: 'NOT_INITIALISED' });
    expect(await session.listKeyIds()).toEqual([]);
  });

  it('PIN status and VERIFY: retries from 63Cx, blocking, SO-PIN unblock', async () => {
    const { session } = await device();
    await session.select();
    expect(await session.pinStatus()).toEqual({ initialised: true, verified: false, retriesLeft: 3 });
    await expect(session.verifyPin('000000')).rejects.toMatchObject({ code: 'PIN_INVALID', retriesLeft: 2, message: 'Invalid PIN (2 tries remaining before it is blocked)' });
    await expect(session.verifyPin('000000')).rejects.toMatchObject({ code: 'PIN_INVALID', retriesLeft: 1, message: 'Invalid PIN (1 try remaining before it is blocked)' });
    expect(await session.pinStatus()).toMatchObject({ retriesLeft: 1 });
    await expect(session.verifyPin('000000')).rejects.toMatchObject({ code: 'PIN_BLOCKED' });
    await expect(session.verifyPin(PIN)).rejects.toMatchObject({ code: 'PIN_BLOCKED' });
    expect(await session.pinStatus()).toEqual({ initialised: true, verified: false, retriesLeft: 0 });
    // RESET RETRY COUNTER with the SO-PIN and a new PIN (as OpenSC's C_InitPIN sends it).
    const newPin = Buffer.from('13572468').toString('hex');
    expect(await raw(session, `00 2C 00 81 10 ${SO_PIN} ${newPin}`)).toBe('9000');
    await session.verifyPin('13572468');
    expect(await session.pinStatus()).toEqual({ initialised: true, verified: true });
    await expect(session.verifyPin('12345')).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(session.verifyPin('x'.repeat(17))).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('generates P-256 and X25519 keys, lists them, reads their public keys, derives ECDH secrets', async () => {
    const { session } = await device();
    await session.select();
    await expect(session.generateKey(1, 'p256', { chr: 'KBAGE00001' })).rejects.toMatchObject({ code: 'NOT_LOGGED_IN' });
    await session.verifyPin(PIN);
    const k1 = await session.generateKey(1, 'p256', { chr: 'KBAGE00001', algorithms: [0x80] });
    expect(k1).toMatchObject({ curve: 'p256', chr: 'KBAGE00001', car: 'UTCA00001' });
    expect(k1.publicKey).toHaveLength(65);
    const k2 = await session.generateKey(2, 'x25519', { chr: 'KBAGE00002' });
    expect(k2.curve).toBe('x25519');
    expect(k2.publicKey).toHaveLength(32);
    expect(await session.listKeyIds()).toEqual([0, 1, 2]);
    expect(await session.freeKeyId()).toBe(3);
    expect((await session.readPublicKey(1)).publicKey).toEqual(k1.publicKey);
    expect((await session.readPublicKey(2)).publicKey).toEqual(k2.publicKey);
    expect((await session.readPublicKey(0)).curve).toBe('p256'); // the device key

    const peer = p256.utils.randomSecretKey();
    const before = session.apduCount;
    const s1 = await session.ecdh(1, p256.getPublicKey(peer, false));
    expect(session.apduCount - before).toBe(1);
    expect(s1).toEqual(p256.getSharedSecret(peer, k1.publicKey).subarray(1));
    const xpeer = x25519.utils.randomSecretKey();
    expect(await session.ecdh(2, x25519.getPublicKey(xpeer))).toEqual(x25519.getSharedSecret(xpeer, k2.publicKey));

    await expect(session.ecdh(9, p256.getPublicKey(peer, false))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const bad = p256.getPublicKey(peer, false);
    bad[64] = bad[64]! ^ 1;
    await expect(session.ecdh(1, bad)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(session.ecdh(1, x25519.getPublicKey(xpeer))).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('key descriptions (PKCS#15 PRKD) round-trip; delete removes key, description and public key', async () => {
    const { session, hsm } = await device();
    await session.select();
    await session.verifyPin(PIN);
    await session.generateKey(1, 'p256', { chr: 'KBAGE00001' });
    expect(await session.readKeyDescription(1)).toBeNull();
    const id = Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4);
    await session.writeKeyDescription(1, encodeEcPrkd({ label: 'laptop — age', id, usage: Usage.DERIVE, keyRef: 1, fieldSize: 256 }));
    expect(await session.readKeyDescription(1)).toEqual({ label: 'laptop — age', id, usage: Usage.DERIVE, ec: true });
    // The device key's description, written by the firmware layout.
    expect(await session.readKeyDescription(0)).toMatchObject({ label: 'ESPICOHSMTR', usage: Usage.SIGN | Usage.DERIVE });
    await session.deleteKey(1);
    expect(await session.listKeyIds()).toEqual([0]);
    expect(Object.keys(hsm.store.state.files).sort()).toEqual(['2f02', 'c400', 'ce00']);
    await expect(session.readPublicKey(1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(session.deleteKey(1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('PRKDs written by OpenSC decode (label, CKA_ID, usage)', () => {
    // EF C401 as OpenSC 0.23's pkcs15init wrote it for `pkcs11-tool --keypairgen --id a1b2c3d4 --label age-key`.
    const opensc = Buffer.from('a02e30100c076167652d6b6579030206c0040101300e0404a1b2c3d40303073080020101a10a30083002040002020100', 'hex');
    expect(decodePrkd(opensc)).toEqual({ label: 'age-key', id: Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4), usage: Usage.SIGN | (1 << 3) | Usage.DERIVE, ec: true });
    expect(decodePrkd(new Uint8Array(0))).toBeNull();
    expect(decodePrkd(Uint8Array.of(0xa0, 0x05, 0x30))).toBeNull();
  });

  it('the serial is the device certificate holder reference without its sequence number', async () => {
    const { session } = await device();
    await session.select();
    expect(await session.serial()).toBe('ESPH0000042');
  });

  it('the press-to-confirm button: option reported, approve, refusal and timeout give TOUCH_TIMEOUT', async () => {
    const { session, hsm } = await device({ button: 'approve' });
    const info = await session.select();
    expect(info.button).toBe(true);
    await session.verifyPin(PIN);
    const k = await session.generateKey(1, 'x25519', { chr: 'KBAGE00001' });
    const peer = x25519.getPublicKey(x25519.utils.randomSecretKey());
    await session.ecdh(1, peer);
    hsm.setButton('deny');
    await expect(session.ecdh(1, peer)).rejects.toMatchObject({ code: 'TOUCH_TIMEOUT', sw: 0x6600 });
    hsm.setButton({ timeoutMs: 30 });
    await expect(session.ecdh(1, peer)).rejects.toMatchObject({ code: 'TOUCH_TIMEOUT' });
    expect(hsm.buttonRequests).toBe(3);
    expect(k.publicKey).toHaveLength(32);
  });

  it('a device pulled out mid-session gives CARD_REMOVED; after re-insertion the PIN is needed again', async () => {
    const { session, hsm, readers } = await device();
    await session.select();
    await session.verifyPin(PIN);
    readers.remove('Reader 0');
    await expect(session.pinStatus()).rejects.toMatchObject({ code: 'CARD_REMOVED' });
    readers.insert('Reader 0', hsm);
    const again = new ScHsmSession(await readers.connect('Reader 0'));
    await again.select();
    expect(await again.pinStatus()).toEqual({ initialised: true, verified: false, retriesLeft: 3 });
  });

  it('status words for hostile or unknown commands', async () => {
    const { session } = await device();
    expect(await raw(session, '80 58 00 00 00')).toBe('6D00'); // not selected yet
    await session.select();
    expect(await raw(session, '00 EE 00 00')).toBe('6D00');
    expect(await raw(session, '84 20 00 81')).toBe('6E00');
    expect(await raw(session, '00 20 00 85')).toBe('6A88'); // no such PIN reference
    expect(await raw(session, '00 20 01 81')).toBe('6B00');
    expect(await raw(session, '00 B1 CC 00 04 54 02 00 00 00')).toBe('6982'); // private keys never leave
    expect(await raw(session, '00 B1 CE 07 04 54 02 00 00 00')).toBe('6A82');
    expect(await raw(session, '00 B1 2F 02 03 54 05 00 00')).toBe('6A80'); // malformed offset object
    expect(await raw(session, '00 46 01 00 03 7F 49 00')).toBe('6982'); // keygen without PIN
    expect(await raw(session, '80 62 01 80 02 04 00')).toBe('6982');
  });
});
