/**
 * Ctap2Session against the virtual authenticator (in-process HID backend): getInfo, clientPIN
 * with both PIN/UV auth protocols and the retry rules, makeCredential with hmac-secret,
 * getAssertion with one and two salts, the silent probe, and every failure as a typed error.
 */
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CtapHidDevice } from '../../../src/transport/ctaphid.ts';
import { COSE_ALGORITHMS, Ctap2Session, PERMISSION } from '../../../src/tokens/ctap2/session.ts';
import { Ctap2Error, ctapStatusError } from '../../../src/tokens/ctap2/errors.ts';
import { CTAP_STATUS } from '../../../src/tokens/ctap2/status.ts';
import { FLAG_UP, FLAG_UV } from '../../../src/tokens/ctap2/authData.ts';
import { startVirtualFido2, type VirtualFido2 } from '../../../src/sim/fido2/server.ts';
import type { AuthenticatorEvent } from '../../../src/sim/fido2/authenticator.ts';

const RP = 'age-encryption.org';
const sims: VirtualFido2[] = [];
const sessions: Ctap2Session[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
  for (const v of sims.splice(0)) await v.stop();
});

async function setup(opts: Parameters<typeof startVirtualFido2>[0] = {}, protocol?: 1 | 2) {
  const v = await startVirtualFido2(opts);
  sims.push(v);
  const s = await Ctap2Session.open(await CtapHidDevice.open(v.device()), protocol ? { pinProtocol: protocol } : {});
  sessions.push(s);
  const events: AuthenticatorEvent[] = [];
  v.onEvent((e) => events.push(e));
  return { v, s, events };
}

/** Verifies a WebAuthn signature with a COSE public key, by node:crypto (RFC 9053 key parameters). */
function coseVerify(key: Map<number, unknown>, data: Uint8Array, sig: Uint8Array): boolean {
  const b = (l: number) => Buffer.from(key.get(l) as Uint8Array).toString('base64url');
  const alg = key.get(3);
  const jwk: JsonWebKey = alg === -7 ? { kty: 'EC', crv: 'P-256', x: b(-2), y: b(-3) } : alg === -8 ? { kty: 'OKP', crv: 'Ed25519', x: b(-2) } : { kty: 'RSA', n: b(-1), e: b(-2) };
  return verify(alg === -8 ? null : 'sha256', data, createPublicKey({ key: jwk, format: 'jwk' }), sig);
}

const salt1 = new Uint8Array(32).fill(1);
const salt2 = new Uint8Array(32).fill(2);

describe('Ctap2Session', () => {
  it('makeCredential with ES256, EdDSA and RS256: the key is of that algorithm and signs the attestation and assertions; unsupported algorithms are typed errors', async () => {
    const { s } = await setup();
    const cdh = new Uint8Array(32).fill(9);
    for (const [name, alg] of Object.entries(COSE_ALGORITHMS)) {
      const cred = await s.makeCredential({ rpId: RP, userId: new Uint8Array(32), hmacSecret: true, alg, clientDataHash: cdh });
      expect(cred.publicKey.get(3), name).toBe(alg);
      expect(cred.publicKey.get(1), name).toBe({ es256: 2, eddsa: 1, rs256: 3 }[name]);
      expect(cred.hmacSecret).toBe(true);
      const a = await s.getAssertion({ rpId: RP, allowList: [cred.credentialId], clientDataHash: cdh, hmacSalts: [salt1] });
      const signed = Buffer.concat([a.authData.raw, cdh]);
      expect(coseVerify(cred.publicKey, signed, a.signature), name).toBe(true);
      expect(coseVerify(cred.publicKey, Buffer.concat([a.authData.raw, new Uint8Array(32)]), a.signature), name).toBe(false);
      expect(a.hmacOutputs![0]!.length).toBe(32);
    }
    const { s: es256Only } = await setup({ algorithms: [-7] });
    const err = await es256Only.makeCredential({ rpId: RP, userId: new Uint8Array(32), alg: COSE_ALGORITHMS.eddsa }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Ctap2Error);
    expect((err as Ctap2Error).message).toBe('creating the credential: the security key does not support this algorithm');
    expect((await es256Only.makeCredential({ rpId: RP, userId: new Uint8Array(32) })).publicKey.get(3)).toBe(-7);
  });

  it('getInfo: versions, hmac-secret, protocols, options', async () => {
    const { s } = await setup();
    expect(s.info.versions).toContain('FIDO_2_1');
    expect(s.supportsHmacSecret).toBe(true);
    expect(s.info.pinUvAuthProtocols).toEqual([2, 1]);
    expect(s.pinSet).toBe(false);
    expect(s.pinProtocol.version).toBe(2);
  });

  for (const protocol of [1, 2] as const) {
    it(`PIN protocol ${protocol}: set PIN, token with permissions and rpId, hmac-secret with one and two salts`, async () => {
      const { s, events } = await setup({}, protocol);
      expect(s.pinProtocol.version).toBe(protocol);
      await s.setPin('123456');
      expect(s.pinSet).toBe(true);
      expect((await s.getPinRetries()).retries).toBe(8);
      const mcToken = await s.getPinToken('123456', PERMISSION.MAKE_CREDENTIAL, RP);
      let touches = 0;
      const cred = await s.makeCredential({ rpId: RP, userId: new Uint8Array(32), userName: 'x', hmacSecret: true, pinToken: mcToken, onTouch: () => touches++ });
      expect(touches).toBe(1);
      expect(cred.hmacSecret).toBe(true);
      expect(cred.authData.flags & FLAG_UV).toBe(FLAG_UV);
      expect(cred.publicKey.get(3)).toBe(-7);

      const plain1 = await s.getAssertion({ rpId: RP, allowList: [cred.credentialId], hmacSalts: [salt1] });
      const plain2 = await s.getAssertion({ rpId: RP, allowList: [cred.credentialId], hmacSalts: [salt1, salt2] });
      expect(plain1.hmacOutputs).toHaveLength(1);
      expect(plain2.hmacOutputs).toHaveLength(2);
      expect(plain2.hmacOutputs![0]).toEqual(plain1.hmacOutputs![0]);
      expect(plain2.hmacOutputs![1]).not.toEqual(plain2.hmacOutputs![0]);
      expect(plain1.authData.flags & (FLAG_UP | FLAG_UV)).toBe(FLAG_UP);

      const gaToken = await s.getPinToken('123456', PERMISSION.GET_ASSERTION, RP);
      const uv = await s.getAssertion({ rpId: RP, allowList: [cred.credentialId], hmacSalts: [salt1], pinToken: gaToken });
      expect(uv.authData.flags & FLAG_UV).toBe(FLAG_UV);
      expect(uv.hmacOutputs![0]).not.toEqual(plain1.hmacOutputs![0]);
      // Same outputs on a second assertion: the secret is stable.
      const again = await s.getAssertion({ rpId: RP, allowList: [cred.credentialId], hmacSalts: [salt1], pinToken: gaToken });
      expect(again.hmacOutputs![0]).toEqual(uv.hmacOutputs![0]);
      // A token bound to another RP is refused.
      const other = await s.getPinToken('123456', PERMISSION.GET_ASSERTION, 'example.org');
      await expect(s.getAssertion({ rpId: RP, allowList: [cred.credentialId], pinToken: other })).rejects.toMatchObject({ kind: 'PIN_AUTH_INVALID', status: 0x33 });
      expect(events.filter((e) => e.type === 'pin' && e.result === 'ok').length).toBe(3);
      await s.changePin('123456', '654321');
      await expect(s.getPinToken('123456', PERMISSION.GET_ASSERTION, RP)).rejects.toMatchObject({ kind: 'PIN_INVALID', retriesLeft: 7 });
      await s.getPinToken('654321', PERMISSION.GET_ASSERTION, RP);
    });
  }

  it('the same secret under both protocols, and the legacy getPinToken when the key lacks permissions', async () => {
    const { v, s } = await setup({}, 1);
    await s.setPin('1234');
    const cred = await s.makeCredential({ rpId: RP, userId: new Uint8Array([1]), hmacSecret: true });
    const s2 = await Ctap2Session.open(await CtapHidDevice.open(v.device()), { pinProtocol: 2 });
    sessions.push(s2);
    const o1 = await s.getAssertion({ rpId: RP, allowList: [cred.credentialId], hmacSalts: [salt1], pinToken: await s.getPinToken('1234', PERMISSION.GET_ASSERTION, RP) });
    const o2 = await s2.getAssertion({ rpId: RP, allowList: [cred.credentialId], hmacSalts: [salt1], pinToken: await s2.getPinToken('1234', PERMISSION.GET_ASSERTION, RP) });
    expect(o1.hmacOutputs![0]).toEqual(o2.hmacOutputs![0]);
    // A CTAP 2.0 key (no pinUvAuthToken option) gets getPinToken (0x05), which takes no permissions.
    (s2 as unknown as { infoValue: { options: Record<string, boolean> } }).infoValue.options.pinUvAuthToken = false;
    const legacy = await s2.getPinToken('1234', PERMISSION.GET_ASSERTION, RP);
    const o3 = await s2.getAssertion({ rpId: RP, allowList: [cred.credentialId], hmacSalts: [salt1], pinToken: legacy });
    expect(o3.hmacOutputs![0]).toEqual(o1.hmacOutputs![0]);
  });

  it('wrong PINs: retries left, PIN auth blocked after three until a power cycle, then PIN blocked', async () => {
    const { v, s } = await setup();
    await s.setPin('1234');
    const wrong = () => s.getPinToken('0000', PERMISSION.GET_ASSERTION, RP).then(() => undefined, (e: unknown) => e as Ctap2Error);
    expect(await wrong()).toMatchObject({ kind: 'PIN_INVALID', retriesLeft: 7, message: 'wrong PIN (7 tries left)' });
    expect(await wrong()).toMatchObject({ kind: 'PIN_INVALID', retriesLeft: 6 });
    expect(await wrong()).toMatchObject({ kind: 'PIN_AUTH_BLOCKED', status: 0x34 });
    await expect(s.getPinToken('1234', PERMISSION.GET_ASSERTION, RP)).rejects.toMatchObject({ kind: 'PIN_AUTH_BLOCKED' });
    expect((await s.getPinRetries()).retries).toBe(5);
    v.unplug();
    v.plugIn();
    let s2 = await Ctap2Session.open(await CtapHidDevice.open(v.device()));
    sessions.push(s2);
    await s2.getPinToken('1234', PERMISSION.GET_ASSERTION, RP);
    expect((await s2.getPinRetries()).retries).toBe(8);
    const errs: Ctap2Error[] = [];
    for (let i = 0; i < 8; i++) {
      if (i % 2 === 0) {
        v.unplug();
        v.plugIn();
        s2 = await Ctap2Session.open(await CtapHidDevice.open(v.device()));
        sessions.push(s2);
      }
      errs.push(await s2.getPinToken('9999', PERMISSION.GET_ASSERTION, RP).then(() => undefined as never, (e: Ctap2Error) => e));
    }
    expect(errs.map((e) => e.retriesLeft ?? e.kind)).toEqual([7, 6, 5, 4, 3, 2, 1, 'PIN_BLOCKED']);
    await expect(s2.getPinToken('1234', PERMISSION.GET_ASSERTION, RP)).rejects.toMatchObject({ kind: 'PIN_BLOCKED', status: 0x32 });
  });

  it('the silent probe finds the credential without a touch; a foreign id is null', async () => {
    const { v, s, events } = await setup();
    const cred = await s.makeCredential({ rpId: RP, userId: new Uint8Array([1]), hmacSecret: true });
    const other = await startVirtualFido2();
    sims.push(other);
    const so = await Ctap2Session.open(await CtapHidDevice.open(other.device()));
    sessions.push(so);
    const foreign = await so.makeCredential({ rpId: RP, userId: new Uint8Array([1]), hmacSecret: true });
    events.length = 0;
    expect(await s.probe(RP, [cred.credentialId])).toEqual(cred.credentialId);
    expect(await s.probe(RP, [foreign.credentialId, cred.credentialId])).toEqual(cred.credentialId);
    expect(await s.probe(RP, [foreign.credentialId])).toBeNull();
    expect(await s.probe('example.org', [cred.credentialId])).toBeNull();
    expect(events.some((e) => e.type === 'touch-requested')).toBe(false);
    await expect(s.getAssertion({ rpId: RP, allowList: [foreign.credentialId], hmacSalts: [salt1] })).rejects.toMatchObject({ kind: 'NO_CREDENTIALS', status: 0x2e });
    void v;
  });

  it('touch denied, timed out, cancelled; key unplugged mid-touch; unsupported options', async () => {
    const { v, s } = await setup({ touch: 'deny' });
    await expect(s.makeCredential({ rpId: RP, userId: new Uint8Array([1]) })).rejects.toMatchObject({ kind: 'OPERATION_DENIED', status: 0x27 });
    v.setTouch({ timeoutMs: 300 });
    await expect(s.makeCredential({ rpId: RP, userId: new Uint8Array([1]) })).rejects.toMatchObject({ kind: 'TOUCH_TIMEOUT', status: 0x2f });
    v.setTouch({ timeoutMs: 20_000 });
    const ac = new AbortController();
    await expect(s.makeCredential({ rpId: RP, userId: new Uint8Array([1]), signal: ac.signal, onTouch: () => ac.abort() })).rejects.toMatchObject({ kind: 'CANCELLED', status: 0x2d });
    await expect(s.makeCredential({ rpId: RP, userId: new Uint8Array([1]), residentKey: true })).rejects.toMatchObject({ kind: 'UNSUPPORTED', status: 0x2b });
    await expect(s.makeCredential({ rpId: RP, userId: new Uint8Array([1]), onTouch: () => v.unplug() })).rejects.toMatchObject({ kind: 'DEVICE_GONE' });
  });

  it('every CTAP status code maps to a typed error with its name', () => {
    for (const [code, name] of Object.entries(CTAP_STATUS)) {
      if (Number(code) === 0) continue;
      const e = ctapStatusError(Number(code), 'x');
      expect(e).toBeInstanceOf(Ctap2Error);
      expect(e.status).toBe(Number(code));
      if (e.kind === 'DEVICE') expect(e.message).toContain(name);
    }
    expect(ctapStatusError(0xe5, 'x').message).toContain('EXTENSION_E5');
    expect(ctapStatusError(0xf1, 'x').message).toContain('VENDOR_F1');
  });
});
