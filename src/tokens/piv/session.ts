/**
 * `PivSession`: the PIV application of a YubiKey, one method per card operation (named as the
 * card names them), over the APDU protocol layer. Byte formats follow NIST SP 800-73-4 and
 * Yubico's extensions (GET VERSION/SERIAL/METADATA, ATTEST, policies).
 */
import { concatBytes, tlv, tlvMap, unwrapTlv } from '../../transport/tlv.ts';
import { ApduProtocol, StatusWordError } from '../../transport/apdu.ts';
import type { ApduTransport } from '../../transport/types.ts';
import {
  certificateObjectId,
  Ins,
  KeyAlgorithm,
  MGMT_KEY_SLOT,
  MgmtKeyAlgorithm,
  PIN_POLICY_BYTE,
  PIN_REF,
  pinPolicyFromByte,
  PIV_AID,
  PUK_REF,
  TOUCH_POLICY_BYTE,
  touchPolicyFromByte,
  type PinPolicy,
  type TouchPolicy,
} from './constants.ts';
import { PivError } from './errors.ts';
import { decryptBlock, encryptBlock, mgmtKeySpec, randomChallenge } from './managementKey.ts';
import { ISO_SW } from '../../transport/iso7816.ts';

export type Version = readonly [number, number, number];

export interface SlotMetadata {
  algorithm: number;
  pinPolicy?: PinPolicy;
  touchPolicy?: TouchPolicy;
  /** 1 generated on the card, 2 imported. */
  origin?: number;
  /** EC: the uncompressed point (or raw 32 bytes for X25519). */
  publicKey?: Uint8Array;
  isDefault?: boolean;
  retries?: { total: number; remaining: number };
}

export interface PinStatus {
  verified: boolean;
  /** Tries left, when the card reports them (63Cx). */
  retriesLeft?: number;
}

const SW = ISO_SW;

function versionAtLeast(v: Version, major: number, minor: number, patch = 0): boolean {
  if (v[0] !== major) return v[0] > major;
  if (v[1] !== minor) return v[1] > minor;
  return v[2] >= patch;
}

export function padPin(pin: string, what = 'PIN'): Uint8Array {
  const bytes = new TextEncoder().encode(pin);
  if (bytes.length > 8) throw new PivError('BAD_INPUT', `${what} is longer than 8 bytes`);
  const out = new Uint8Array(8).fill(0xff);
  out.set(bytes);
  return out;
}

export class PivSession {
  readonly protocol: ApduProtocol;
  private cachedVersion?: Version;

  constructor(transport: ApduTransport) {
    this.protocol = new ApduProtocol(transport);
  }

  /** Selects the PIV application (5-byte partial AID, as age-plugin-yubikey sends it). */
  async select(): Promise<void> {
    const r = await this.protocol.sendRaw(0x00, Ins.SELECT, 0x04, 0x00, PIV_AID);
    if (r.sw === SW.NOT_FOUND) throw new PivError('APPLET_NOT_FOUND', 'The card has no PIV application', { sw: r.sw });
    if (r.sw !== 0x9000) throw new PivError('CARD', `Selecting PIV failed (status ${r.sw.toString(16)})`, { sw: r.sw });
  }

  async getVersion(): Promise<Version> {
    if (!this.cachedVersion) {
      const d = await this.send('GET VERSION', Ins.GET_VERSION, 0, 0);
      if (d.length < 3) throw new PivError('CARD', 'GET VERSION returned too little data');
      this.cachedVersion = [d[0]!, d[1]!, d[2]!];
    }
    return this.cachedVersion;
  }

  async getSerial(): Promise<number> {
    const d = await this.send('GET SERIAL', Ins.GET_SERIAL, 0, 0);
    if (d.length !== 4) throw new PivError('CARD', 'GET SERIAL returned a malformed serial');
    return new DataView(d.buffer, d.byteOffset, 4).getUint32(0, false);
  }

  /** Empty VERIFY: whether the PIN is verified in this card session; consumes no retry. */
  async pinStatus(): Promise<PinStatus> {
    const r = await this.protocol.sendRaw(0x00, Ins.VERIFY, 0x00, PIN_REF);
    if (r.sw === 0x9000) return { verified: true };
    if ((r.sw & 0xfff0) === 0x63c0) return { verified: false, retriesLeft: r.sw & 0x0f };
    if (r.sw === SW.AUTH_BLOCKED) return { verified: false, retriesLeft: 0 };
    throw new PivError('CARD', `PIN status query failed (status ${r.sw.toString(16)})`, { sw: r.sw });
  }

  async verifyPin(pin: string): Promise<void> {
    const r = await this.protocol.sendRaw(0x00, Ins.VERIFY, 0x00, PIN_REF, padPin(pin));
    if (r.sw === 0x9000) return;
    throw referenceError(r.sw, 'PIN');
  }

  async changePin(oldPin: string, newPin: string): Promise<void> {
    await this.changeReference(PIN_REF, oldPin, newPin, 'PIN');
  }

  async changePuk(oldPuk: string, newPuk: string): Promise<void> {
    await this.changeReference(PUK_REF, oldPuk, newPuk, 'PUK');
  }

  private async changeReference(ref: number, oldValue: string, newValue: string, what: 'PIN' | 'PUK'): Promise<void> {
    const r = await this.protocol.sendRaw(0x00, Ins.CHANGE_REFERENCE, 0x00, ref, concatBytes(padPin(oldValue, what), padPin(newValue, what)));
    if (r.sw !== 0x9000) throw referenceError(r.sw, what);
  }

  /** RESET RETRY COUNTER: unblocks the PIN with the PUK and sets a new PIN. */
  async unblockPin(puk: string, newPin: string): Promise<void> {
    const r = await this.protocol.sendRaw(0x00, Ins.RESET_RETRY, 0x00, PIN_REF, concatBytes(padPin(puk, 'PUK'), padPin(newPin)));
    if (r.sw !== 0x9000) throw referenceError(r.sw, 'PUK');
  }

  /** GET METADATA (firmware >= 5.3); null when the card does not support it. */
  async getMetadata(slot: number): Promise<SlotMetadata | null> {
    const r = await this.protocol.sendRaw(0x00, Ins.GET_METADATA, 0x00, slot);
    if (r.sw === SW.INS_NOT_SUPPORTED) return null;
    if (r.sw === SW.NOT_FOUND) throw new PivError('NOT_FOUND', `Slot ${slot.toString(16)} holds no key`, { sw: r.sw });
    if (r.sw !== 0x9000) throw statusError(r.sw, 'GET METADATA');
    const m = tlvMap(r.data);
    const out: SlotMetadata = { algorithm: m.get(0x01)?.[0] ?? MgmtKeyAlgorithm.Tdes };
    const policy = m.get(0x02);
    if (policy && policy.length >= 2) {
      const pin = pinPolicyFromByte(policy[0]!);
      const touch = touchPolicyFromByte(policy[1]!);
      if (pin) out.pinPolicy = pin;
      if (touch) out.touchPolicy = touch;
    }
    const origin = m.get(0x03);
    if (origin?.length) out.origin = origin[0]!;
    const pub = m.get(0x04);
    if (pub) {
      const inner = tlvMap(pub);
      const point = inner.get(0x86);
      if (point) out.publicKey = point;
    }
    const def = m.get(0x05);
    if (def?.length) out.isDefault = def[0] === 1;
    const retries = m.get(0x06);
    if (retries && retries.length >= 2) out.retries = { total: retries[0]!, remaining: retries[1]! };
    return out;
  }

  /** The management key's algorithm, from metadata, or TDES where metadata is unsupported. */
  async getMgmtKeyAlgorithm(): Promise<MgmtKeyAlgorithm> {
    const md = await this.getMetadata(MGMT_KEY_SLOT);
    return (md?.algorithm ?? MgmtKeyAlgorithm.Tdes) as MgmtKeyAlgorithm;
  }

  /** Mutual authentication with the management key (any algorithm). */
  async authenticate(key: Uint8Array, alg?: MgmtKeyAlgorithm): Promise<void> {
    const algorithm = alg ?? (await this.getMgmtKeyAlgorithm());
    mgmtKeySpec(algorithm);
    const step1 = await this.send('management key authentication', Ins.GENERAL_AUTHENTICATE, algorithm, MGMT_KEY_SLOT, tlv(0x7c, tlv(0x80, new Uint8Array(0))));
    const witnessEnc = unwrapTlv(unwrapTlv(step1, 0x7c), 0x80);
    const witness = decryptBlock(algorithm, key, witnessEnc);
    const challenge = randomChallenge(algorithm);
    const r = await this.protocol.sendRaw(0x00, Ins.GENERAL_AUTHENTICATE, algorithm, MGMT_KEY_SLOT, tlv(0x7c, concatBytes(tlv(0x80, witness), tlv(0x81, challenge))));
    if (r.sw === SW.SECURITY_STATUS || r.sw === SW.INCORRECT_DATA || r.sw === SW.AUTH_BLOCKED) {
      throw new PivError('MGMT_AUTH_FAILED', 'Management key authentication failed', { sw: r.sw });
    }
    if (r.sw !== 0x9000) throw statusError(r.sw, 'management key authentication');
    const response = unwrapTlv(unwrapTlv(r.data, 0x7c), 0x82);
    const expected = encryptBlock(algorithm, key, challenge);
    if (response.length !== expected.length || !response.every((b, i) => b === expected[i])) {
      throw new PivError('MGMT_AUTH_FAILED', 'The card failed management key authentication (wrong key or not a genuine card)');
    }
  }

  async setMgmtKey(key: Uint8Array, alg: MgmtKeyAlgorithm, requireTouch = false): Promise<void> {
    const spec = mgmtKeySpec(alg);
    if (key.length !== spec.keyLength) throw new PivError('BAD_INPUT', 'management key has the wrong length');
    await this.send('SET MANAGEMENT KEY', Ins.SET_MGMT_KEY, 0xff, requireTouch ? 0xfe : 0xff, concatBytes(Uint8Array.of(alg, MGMT_KEY_SLOT, key.length), key));
  }

  /** GENERATE ASYMMETRIC; returns the public key (uncompressed EC point, or raw X25519 key). */
  async generateKey(slot: number, algorithm: KeyAlgorithm, pinPolicy: PinPolicy = 'default', touchPolicy: TouchPolicy = 'default'): Promise<Uint8Array> {
    const parts = [tlv(0x80, Uint8Array.of(algorithm))];
    if (pinPolicy !== 'default') parts.push(tlv(0xaa, Uint8Array.of(PIN_POLICY_BYTE[pinPolicy])));
    if (touchPolicy !== 'default') parts.push(tlv(0xab, Uint8Array.of(TOUCH_POLICY_BYTE[touchPolicy])));
    const d = await this.send('GENERATE ASYMMETRIC', Ins.GENERATE, 0x00, slot, tlv(0xac, concatBytes(...parts)));
    const point = tlvMap(unwrapTlv(d, 0x7f49)).get(0x86);
    if (!point) throw new PivError('CARD', 'GENERATE returned no public key');
    return point;
  }

  /** ECDH with the slot's key; `peer` is an uncompressed point (65 bytes for P-256). */
  async calculateSecret(slot: number, algorithm: KeyAlgorithm, peer: Uint8Array): Promise<Uint8Array> {
    const d = await this.send('ECDH', Ins.GENERAL_AUTHENTICATE, algorithm, slot, tlv(0x7c, concatBytes(tlv(0x82, new Uint8Array(0)), tlv(0x85, peer))));
    return unwrapTlv(unwrapTlv(d, 0x7c), 0x82);
  }

  /** ECDSA over a pre-computed digest; returns the DER signature. */
  async signDigest(slot: number, algorithm: KeyAlgorithm, digest: Uint8Array): Promise<Uint8Array> {
    const d = await this.send('SIGN', Ins.GENERAL_AUTHENTICATE, algorithm, slot, tlv(0x7c, concatBytes(tlv(0x82, new Uint8Array(0)), tlv(0x81, digest))));
    return unwrapTlv(unwrapTlv(d, 0x7c), 0x82);
  }

  /** GET DATA; null when the object does not exist. */
  async getObject(objectId: number): Promise<Uint8Array | null> {
    const id = Uint8Array.of(objectId >> 16, (objectId >> 8) & 0xff, objectId & 0xff);
    const r = await this.protocol.sendRaw(0x00, Ins.GET_DATA, 0x3f, 0xff, tlv(0x5c, id));
    if (r.sw === SW.NOT_FOUND) return null;
    if (r.sw !== 0x9000) throw statusError(r.sw, 'GET DATA');
    return unwrapTlv(r.data, 0x53);
  }

  async putObject(objectId: number, value: Uint8Array | null): Promise<void> {
    const id = Uint8Array.of(objectId >> 16, (objectId >> 8) & 0xff, objectId & 0xff);
    await this.send('PUT DATA', Ins.PUT_DATA, 0x3f, 0xff, concatBytes(tlv(0x5c, id), tlv(0x53, value ?? new Uint8Array(0))));
  }

  /** The slot's certificate (DER), or null when the slot has none. */
  async getCertificate(slot: number): Promise<Uint8Array | null> {
    const obj = await this.getObject(certificateObjectId(slot));
    if (!obj || obj.length === 0) return null;
    const m = tlvMap(obj);
    const cert = m.get(0x70);
    if (!cert) return null;
    const info = m.get(0x71);
    if (info?.length && info[0] === 0x01) {
      const { gunzipSync } = await import('node:zlib');
      return new Uint8Array(gunzipSync(cert));
    }
    return cert;
  }

  async putCertificate(slot: number, der: Uint8Array): Promise<void> {
    await this.putObject(certificateObjectId(slot), concatBytes(tlv(0x70, der), tlv(0x71, Uint8Array.of(0)), tlv(0xfe, new Uint8Array(0))));
  }

  /** ATTEST (Yubico): a certificate for the slot's key signed by the attestation key. */
  async attest(slot: number): Promise<Uint8Array> {
    return this.send('ATTEST', Ins.ATTEST, slot, 0x00);
  }

  async supportsMetadata(): Promise<boolean> {
    return versionAtLeast(await this.getVersion(), 5, 3);
  }

  private async send(what: string, ins: number, p1: number, p2: number, data?: Uint8Array): Promise<Uint8Array> {
    try {
      return await this.protocol.send(what, 0x00, ins, p1, p2, data);
    } catch (e) {
      if (e instanceof StatusWordError) throw statusError(e.sw, what);
      throw e;
    }
  }
}

export function statusError(sw: number, what: string): PivError {
  switch (sw) {
    case SW.SECURITY_STATUS:
      return new PivError('SECURITY_STATUS', `${what}: security status not satisfied (PIN, touch or management key required)`, { sw });
    case SW.AUTH_BLOCKED:
      return new PivError('PIN_BLOCKED', `${what}: authentication method blocked`, { sw });
    case SW.NOT_FOUND:
      return new PivError('NOT_FOUND', `${what}: not found`, { sw });
    case SW.INS_NOT_SUPPORTED:
      return new PivError('NOT_SUPPORTED', `${what} is not supported by this card`, { sw });
    default:
      return new PivError('CARD', `${what} failed (status ${sw.toString(16).toUpperCase().padStart(4, '0')})`, { sw });
  }
}

function referenceError(sw: number, what: 'PIN' | 'PUK'): PivError {
  const invalid = what === 'PIN' ? 'PIN_INVALID' : 'PUK_INVALID';
  const blocked = what === 'PIN' ? 'PIN_BLOCKED' : 'PUK_BLOCKED';
  if ((sw & 0xfff0) === 0x63c0) {
    const n = sw & 0x0f;
    if (n === 0) return new PivError(blocked, `${what} locked`, { sw, retriesLeft: 0 });
    return new PivError(invalid, `Invalid ${what} (${n} tries remaining before it is blocked)`, { sw, retriesLeft: n });
  }
  if (sw === SW.AUTH_BLOCKED) return new PivError(blocked, `${what} locked`, { sw, retriesLeft: 0 });
  return statusError(sw, `VERIFY ${what}`);
}

