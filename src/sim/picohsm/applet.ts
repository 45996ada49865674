/**
 * The SmartCard-HSM application of the virtual Pico HSM, written from the SmartCard-HSM / Pico HSM
 * command set (not from keybridge's host-side code): SELECT of the applet and of elementary files,
 * INITIALIZE (options, PIN, SO-PIN, retry counter), VERIFY with `63Cx` retries and blocking, CHANGE
 * REFERENCE DATA, RESET RETRY COUNTER with the SO-PIN, ENUMERATE OBJECTS, GENERATE ASYMMETRIC KEY
 * PAIR (P-256 and Curve25519/X25519) answering with an authenticated CV request that is also stored
 * in EF CE<id>, READ BINARY / UPDATE EF with the odd-instruction offset objects, DELETE FILE, ECDH
 * (`80 62 <id> 80`, answer `04 ‖ secret`) behind the optional press-to-confirm button, GET CHALLENGE.
 */
import { randomBytes } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { concatBytes, parseTlvs, readTlv, tlv, TlvError, type Tlv } from '../../transport/tlv.ts';
import { response, SW, SwError, type CommandApdu } from '../apdu.ts';
import { refusal, retriesSw } from '../retries.ts';
import { StoredApplet } from '../applet.ts';
import type { PresenceOutcome } from '../pluggedCard.ts';
import { authenticatedRequest, certificate, certificateBody, CURVE25519_PRIME, OID_TA_ECDSA_SHA256, P256_PRIME, publicKeyObject, type CurveName } from './cvc.ts';
import { SO_PIN_RETRIES, type HsmKey, type PicoHsmState } from './state.ts';

export const SCHSM_AID = Uint8Array.of(0xe8, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x81, 0xc3, 0x1f, 0x02, 0x01);

const SW_BUTTON_TIMEOUT = 0x6600;
const ALGO_EC_DH = 0x80;
const OPT_BUTTON = 0x0100;
const OPT_RRC = 0x0001;
const OPT_RRC_RESET_ONLY = 0x0020;
const PREFIX = { PRKD: 0xc4, CD: 0xc8, DCOD: 0xc9, KEY: 0xcc, PROT_DATA: 0xcd, EE_CERT: 0xce } as const;
const EF_DEVICE_CERT = 0x2f02;
const MF = 0x3f00;
const DEFAULT_CAR = 'UTSRCACC100001';
const DEFAULT_CHR = 'ESHSMCVCA00001';
/** The label Pico HSM firmware gives its device key's PRKD. */
const DEVICE_KEY_LABEL = 'ESPICOHSMTR';

export type ButtonOutcome = PresenceOutcome;

export interface AppletEvents {
  /** Whether the press-to-confirm button is enabled (reported in the device options). */
  buttonEnabled(): boolean;
  /** Waits for the button; 'deny' and 'timeout' both fail the operation with 6600. */
  button(): Promise<ButtonOutcome>;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const fidHex = (fid: number) => fid.toString(16).padStart(4, '0');
const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const ok = (data: Uint8Array = new Uint8Array(0)) => response(data, SW.OK);
const sw = (code: number) => response(new Uint8Array(0), code);

function tlvs(data: Uint8Array): Tlv[] {
  try {
    return parseTlvs(data);
  } catch (e) {
    if (e instanceof TlvError) throw new SwError(SW.INCORRECT_DATA);
    throw e;
  }
}

function find(list: Tlv[], tag: number): Uint8Array | undefined {
  return list.find((t) => t.tag === tag)?.value;
}

/** Parses the `54 <n> offset` object at the start of odd-instruction data; returns offset and the rest. */
function offsetObject(data: Uint8Array): { offset: number; rest: Uint8Array } {
  if (data.length < 2 || data[0] !== 0x54 || data[1]! < 1 || data[1]! > 2 || data.length < 2 + data[1]!) throw new SwError(SW.INCORRECT_DATA);
  let offset = 0;
  for (let i = 0; i < data[1]!; i++) offset = (offset << 8) | data[2 + i]!;
  return { offset, rest: data.subarray(2 + data[1]!) };
}

export class ScHsmApplet extends StoredApplet<PicoHsmState, AppletEvents> {
  private selected = false;
  private currentEf: number | null = null;
  private pinVerified = false;
  private soPinVerified = false;

  /** Power cycle: the applet is deselected and nothing is verified any more. */
  reset(): void {
    this.selected = false;
    this.currentEf = null;
    this.pinVerified = false;
    this.soPinVerified = false;
  }

  private options(): number {
    return this.s.options | (this.events.buttonEnabled() ? OPT_BUTTON : 0);
  }

  async process(cmd: CommandApdu): Promise<Uint8Array> {
    const cla = cmd.cla & 0xef;
    if (cla !== 0x00 && cla !== 0x80) throw new SwError(SW.CLA_NOT_SUPPORTED);
    if (cmd.ins === 0xa4) return this.select(cmd);
    if (!this.selected) throw new SwError(SW.INS_NOT_SUPPORTED);
    const handler = this.instructions[cmd.ins];
    if (!handler) throw new SwError(SW.INS_NOT_SUPPORTED);
    return handler(cmd);
  }

  /** The instructions of the selected application, by INS byte. */
  private readonly instructions: Readonly<Record<number, (cmd: CommandApdu) => Promise<Uint8Array> | Uint8Array>> = {
    0x20: (cmd) => this.verify(cmd),
    0x24: (cmd) => this.changeReference(cmd),
    0x2c: (cmd) => this.resetRetryCounter(cmd),
    0x50: (cmd) => this.initialize(cmd),
    0x58: () => this.enumerate(),
    0x46: (cmd) => this.generate(cmd),
    0x62: (cmd) => this.decipher(cmd),
    0xb0: (cmd) => this.readBinary(cmd),
    0xb1: (cmd) => this.readBinary(cmd),
    0xd7: (cmd) => this.updateEf(cmd),
    0xe4: (cmd) => this.deleteFile(cmd),
    0x84: (cmd) => ok(new Uint8Array(randomBytes(Math.min(cmd.le || 8, 1024)))),
  };

  // ---- files ----

  private fileExists(fid: number): boolean {
    if (fid >> 8 === PREFIX.KEY) return this.s.keys[(fid & 0xff).toString(16).padStart(2, '0')] !== undefined;
    return this.s.files[fidHex(fid)] !== undefined;
  }

  private fileData(fid: number): Uint8Array | undefined {
    const f = this.s.files[fidHex(fid)];
    return f === undefined ? undefined : unhex(f);
  }

  private select(cmd: CommandApdu): Uint8Array {
    const p2ok = cmd.p2 === 0x0c || (cmd.p2 & 0xfc) === 0x00 || (cmd.p2 & 0xfc) === 0x04;
    if (!p2ok) throw new SwError(SW.INCORRECT_P1P2);
    const wantFci = cmd.p2 !== 0x0c;
    if (cmd.p1 === 0x04) {
      if (!equal(cmd.data, SCHSM_AID)) throw new SwError(SW.NOT_FOUND);
      this.selected = true;
      this.currentEf = null;
      if (!wantFci) return ok();
      const opts = this.options();
      const prop = Uint8Array.of(opts >> 8, opts & 0xff, 0xff, this.s.version[0], this.s.version[1]);
      return ok(tlv(0x62, concatBytes(tlv(0x82, Uint8Array.of(0x38)), tlv(0x84, SCHSM_AID), tlv(0x85, prop))));
    }
    if (!this.selected) throw new SwError(SW.NOT_FOUND);
    if (cmd.p1 !== 0x00 && cmd.p1 !== 0x02 && cmd.p1 !== 0x08 && cmd.p1 !== 0x09) throw new SwError(SW.INCORRECT_P1P2);
    if (cmd.data.length === 0 && cmd.p1 === 0x00) {
      this.currentEf = null;
      return ok();
    }
    if (cmd.data.length !== 2) throw new SwError(SW.NOT_FOUND);
    const fid = (cmd.data[0]! << 8) | cmd.data[1]!;
    if (fid === MF) {
      this.currentEf = null;
      return ok();
    }
    if (!this.fileExists(fid)) throw new SwError(SW.NOT_FOUND);
    this.currentEf = fid;
    if (!wantFci) return ok();
    const size = this.fileData(fid)?.length ?? 0;
    return ok(tlv(0x62, concatBytes(tlv(0x80, Uint8Array.of(size >> 8, size & 0xff)), tlv(0x82, Uint8Array.of(0x01)), tlv(0x83, cmd.data))));
  }

  private readBinary(cmd: CommandApdu): Uint8Array {
    let fid: number | null;
    let offset: number;
    if (cmd.ins === 0xb0) {
      if (cmd.p1 & 0x80) throw new SwError(SW.FUNC_NOT_SUPPORTED);
      fid = this.currentEf;
      offset = ((cmd.p1 << 8) | cmd.p2) & 0x7fff;
    } else {
      const id = (cmd.p1 << 8) | cmd.p2;
      fid = id === 0 ? this.currentEf : id;
      offset = offsetObject(cmd.data).offset;
    }
    if (fid === null || !this.fileExists(fid)) throw new SwError(SW.NOT_FOUND);
    if (fid >> 8 === PREFIX.KEY) throw new SwError(SW.SECURITY_STATUS);
    if (fid >> 8 === PREFIX.PROT_DATA && !this.pinVerified) throw new SwError(SW.SECURITY_STATUS);
    const data = this.fileData(fid) ?? new Uint8Array(0);
    if (offset > data.length) return sw(0x6282);
    const max = cmd.le > 0 ? cmd.le : data.length;
    return ok(data.subarray(offset, Math.min(data.length, offset + max)));
  }

  private async updateEf(cmd: CommandApdu): Promise<Uint8Array> {
    if (!this.pinVerified) throw new SwError(SW.SECURITY_STATUS);
    const id = (cmd.p1 << 8) | cmd.p2;
    const fid = id === 0 ? this.currentEf : id;
    if (fid === null) throw new SwError(SW.NOT_FOUND);
    if (fid >> 8 === PREFIX.KEY || fid === EF_DEVICE_CERT) throw new SwError(SW.SECURITY_STATUS);
    const { offset, rest } = offsetObject(cmd.data);
    let content: Uint8Array;
    try {
      const { tlv: t, next } = readTlv(rest, 0);
      if (t.tag !== 0x53 || next !== rest.length) throw new SwError(SW.INCORRECT_DATA);
      content = t.value;
    } catch (e) {
      if (e instanceof TlvError) throw new SwError(SW.INCORRECT_DATA);
      throw e;
    }
    if (offset + content.length > 0x7fff) throw new SwError(SW.FILE_FULL);
    const old = this.fileData(fid) ?? new Uint8Array(0);
    const out = new Uint8Array(Math.max(old.length, offset + content.length));
    out.set(old);
    out.set(content, offset);
    this.s.files[fidHex(fid)] = hex(out);
    this.currentEf = fid;
    await this.store.save();
    return ok();
  }

  private async deleteFile(cmd: CommandApdu): Promise<Uint8Array> {
    if (!this.pinVerified) throw new SwError(SW.SECURITY_STATUS);
    if (cmd.p1 !== 0x02 || cmd.data.length !== 2) throw new SwError(SW.INCORRECT_P1P2);
    const fid = (cmd.data[0]! << 8) | cmd.data[1]!;
    if (fid === EF_DEVICE_CERT) throw new SwError(SW.SECURITY_STATUS);
    if (!this.fileExists(fid)) throw new SwError(SW.NOT_FOUND);
    if (fid >> 8 === PREFIX.KEY) delete this.s.keys[(fid & 0xff).toString(16).padStart(2, '0')];
    else delete this.s.files[fidHex(fid)];
    if (this.currentEf === fid) this.currentEf = null;
    await this.store.save();
    return ok();
  }

  private enumerate(): Uint8Array {
    const fids: number[] = [];
    for (const id of Object.keys(this.s.keys)) fids.push((PREFIX.KEY << 8) | parseInt(id, 16));
    for (const f of Object.keys(this.s.files)) {
      const fid = parseInt(f, 16);
      if ([PREFIX.PRKD, PREFIX.CD, PREFIX.DCOD].includes((fid >> 8) as 0xc4)) fids.push(fid);
    }
    const order = [PREFIX.KEY, PREFIX.PRKD, PREFIX.CD, PREFIX.DCOD] as number[];
    fids.sort((a, b) => order.indexOf(a >> 8) - order.indexOf(b >> 8) || a - b);
    return ok(Uint8Array.from(fids.flatMap((f) => [f >> 8, f & 0xff])));
  }

  // ---- PIN and SO-PIN ----

  private async verify(cmd: CommandApdu): Promise<Uint8Array> {
    if (cmd.p1 !== 0x00 || (cmd.p2 & 0x60) !== 0) throw new SwError(SW.WRONG_P1P2);
    if (cmd.p2 === 0x81) {
      if (!this.s.initialized || this.s.pin === null) throw new SwError(SW.REFERENCE_NOT_FOUND);
      if (cmd.data.length === 0) {
        if (this.pinVerified) return ok();
        return retriesSw(this.s.pinRetriesLeft);
      }
      this.pinVerified = false;
      const refused = await refusal(this.s, 'pinRetriesLeft', equal(cmd.data, unhex(this.s.pin)), this.save);
      if (refused) return refused;
      this.s.pinRetriesLeft = this.s.pinRetries;
      await this.store.save();
      this.pinVerified = true;
      return ok();
    }
    if (cmd.p2 === 0x88) {
      if (!this.s.initialized || this.s.soPin === null) throw new SwError(SW.REFERENCE_NOT_FOUND);
      if (cmd.data.length === 0) {
        if (this.s.soPinRetriesLeft === 0) throw new SwError(SW.AUTH_BLOCKED);
        if (this.soPinVerified) return ok();
        return retriesSw(this.s.soPinRetriesLeft);
      }
      return (await this.checkSoPin(cmd.data)) ?? ok();
    }
    throw new SwError(SW.REFERENCE_NOT_FOUND);
  }

  /** Checks the SO-PIN; returns the failure response, or null when it is right. */
  private async checkSoPin(value: Uint8Array): Promise<Uint8Array | null> {
    this.soPinVerified = false;
    const refused = await refusal(this.s, 'soPinRetriesLeft', this.s.soPin !== null && equal(value, unhex(this.s.soPin)), this.save);
    if (refused) return refused;
    this.s.soPinRetriesLeft = SO_PIN_RETRIES;
    await this.store.save();
    this.soPinVerified = true;
    return null;
  }

  private checkNewPin(pin: Uint8Array): void {
    if (pin.length < 6 || pin.length > 16) throw new SwError(SW.WRONG_LENGTH);
  }

  private async changeReference(cmd: CommandApdu): Promise<Uint8Array> {
    if (cmd.p1 !== 0x00) throw new SwError(SW.INCORRECT_P1P2);
    if (!this.s.initialized) throw new SwError(SW.REFERENCE_NOT_FOUND);
    if (cmd.p2 === 0x81) {
      const oldLen = unhex(this.s.pin!).length;
      if (cmd.data.length <= oldLen) throw new SwError(SW.WRONG_LENGTH);
      if (this.s.pinRetriesLeft === 0) throw new SwError(SW.AUTH_BLOCKED);
      this.pinVerified = false;
      const refused = await refusal(this.s, 'pinRetriesLeft', equal(cmd.data.subarray(0, oldLen), unhex(this.s.pin!)), this.save);
      if (refused) return refused;
      const newPin = cmd.data.subarray(oldLen);
      this.checkNewPin(newPin);
      this.s.pin = hex(newPin);
      this.s.pinRetriesLeft = this.s.pinRetries;
      this.pinVerified = true;
      await this.store.save();
      return ok();
    }
    if (cmd.p2 === 0x88) {
      if (cmd.data.length !== 16) throw new SwError(SW.WRONG_LENGTH);
      const failed = await this.checkSoPin(cmd.data.subarray(0, 8));
      if (failed) return failed;
      this.s.soPin = hex(cmd.data.subarray(8));
      await this.store.save();
      return ok();
    }
    throw new SwError(SW.REFERENCE_NOT_FOUND);
  }

  private async resetRetryCounter(cmd: CommandApdu): Promise<Uint8Array> {
    if (cmd.p2 !== 0x81) throw new SwError(SW.REFERENCE_NOT_FOUND);
    if (!this.s.initialized) throw new SwError(SW.REFERENCE_NOT_FOUND);
    if (!(this.s.options & OPT_RRC)) throw new SwError(SW.NOT_ALLOWED);
    if (cmd.p1 === 0x00 || cmd.p1 === 0x02) {
      let newPin: Uint8Array;
      if (cmd.p1 === 0x00) {
        if (cmd.data.length <= 8) throw new SwError(SW.WRONG_LENGTH);
        const failed = await this.checkSoPin(cmd.data.subarray(0, 8));
        if (failed) return failed;
        newPin = cmd.data.subarray(8);
      } else {
        if (!this.soPinVerified) throw new SwError(SW.CONDITIONS);
        newPin = cmd.data;
      }
      this.checkNewPin(newPin);
      this.s.pin = hex(newPin);
      this.s.pinRetriesLeft = this.s.pinRetries;
      await this.store.save();
      return ok();
    }
    if (cmd.p1 === 0x01 || cmd.p1 === 0x03) {
      if (!(this.s.options & OPT_RRC_RESET_ONLY)) throw new SwError(SW.NOT_ALLOWED);
      if (cmd.p1 === 0x01) {
        if (cmd.data.length !== 8) throw new SwError(SW.WRONG_LENGTH);
        const failed = await this.checkSoPin(cmd.data);
        if (failed) return failed;
      } else if (!this.soPinVerified) throw new SwError(SW.CONDITIONS);
      this.s.pinRetriesLeft = this.s.pinRetries;
      await this.store.save();
      return ok();
    }
    throw new SwError(SW.INCORRECT_P1P2);
  }

  // ---- initialisation ----

  private async initialize(cmd: CommandApdu): Promise<Uint8Array> {
    if (cmd.data.length === 0) return ok(Uint8Array.of(0x00, 0x10, 0x00, 0x00)); // free memory
    const list = tlvs(cmd.data);
    const pin = find(list, 0x81);
    const soPin = find(list, 0x82);
    const options = find(list, 0x80);
    const retries = find(list, 0x91);
    if (!pin || !soPin) throw new SwError(SW.INCORRECT_DATA);
    if (soPin.length !== 8 || (options && options.length !== 2)) throw new SwError(SW.INCORRECT_DATA);
    this.checkNewPin(pin);
    const retryCount = retries ? retries[0]! : 3;
    if (retries && (retries.length !== 1 || retryCount < 1 || retryCount > 10)) throw new SwError(SW.INCORRECT_DATA);
    if (this.s.initialized) {
      // Re-initialisation wipes every key: only with the current SO-PIN as initialisation code.
      const failed = await this.checkSoPin(soPin);
      if (failed) return sw(SW.SECURITY_STATUS);
    }
    this.s.initialized = true;
    this.s.options = options ? (options[0]! << 8) | options[1]! : 0x0001;
    this.s.pin = hex(pin);
    this.s.soPin = hex(soPin);
    this.s.pinRetries = retryCount;
    this.s.pinRetriesLeft = retryCount;
    this.s.soPinRetriesLeft = SO_PIN_RETRIES;
    this.s.keys = {};
    const deviceCert = this.s.files[fidHex(EF_DEVICE_CERT)];
    this.s.files = {};
    this.ensureDeviceKey(deviceCert);
    await this.store.save();
    // As on the Pico HSM: right after initialisation the session holds every credential.
    this.pinVerified = true;
    this.soPinVerified = true;
    return ok();
  }

  private deviceChr(): string {
    return `${this.s.serial}00001`;
  }

  /** The device key (key 0), its PRKD, its CV request and the device certificate EF.C_DevAut. */
  private ensureDeviceKey(existingCert: string | undefined): void {
    if (!this.s.deviceKey || !this.s.issuerKey || !existingCert) {
      this.s.deviceKey = hex(p256.utils.randomSecretKey());
      this.s.issuerKey = hex(p256.utils.randomSecretKey());
    }
    const device = unhex(this.s.deviceKey);
    const issuer = unhex(this.s.issuerKey);
    const issuerChr = `${this.s.serial.slice(0, 2)}DICA00001`;
    const devCert = certificate(certificateBody(issuerChr, publicKeyObject('p256', p256.getPublicKey(device, false)), this.deviceChr()), issuer);
    const issuerCert = certificate(certificateBody('ESCVCA00001', publicKeyObject('p256', p256.getPublicKey(issuer, false)), issuerChr), issuer);
    this.s.files[fidHex(EF_DEVICE_CERT)] = existingCert ?? hex(concatBytes(devCert, issuerCert));
    this.s.keys['00'] = { curve: 'p256', privateKey: this.s.deviceKey };
    const request = authenticatedRequest(certificate(certificateBody(DEFAULT_CAR, publicKeyObject('p256', p256.getPublicKey(device, false)), this.deviceChr()), device), this.deviceChr(), device);
    this.s.files['ce00'] = hex(request);
    this.s.files['c400'] = hex(devicePrkd());
  }

  // ---- keys ----

  private requirePin(): void {
    if (!this.s.initialized) throw new SwError(SW.REFERENCE_NOT_FOUND);
    if (!this.pinVerified) throw new SwError(SW.SECURITY_STATUS);
  }

  private async generate(cmd: CommandApdu): Promise<Uint8Array> {
    this.requirePin();
    const list = tlvs(cmd.data);
    const pubTemplate = find(list, 0x7f49);
    if (!pubTemplate) throw new SwError(SW.INCORRECT_DATA);
    const params = tlvs(pubTemplate);
    const oid = find(params, 0x06);
    if (!oid || !equal(oid.subarray(0, 10), OID_TA_ECDSA_SHA256)) throw new SwError(SW.FUNC_NOT_SUPPORTED);
    const prime = find(params, 0x81);
    if (!prime) throw new SwError(SW.INCORRECT_DATA);
    let curve: CurveName;
    if (equal(prime, P256_PRIME)) curve = 'p256';
    else if (equal(prime, CURVE25519_PRIME)) {
      const g = find(params, 0x83);
      if (!g || g.length === 0) throw new SwError(SW.INCORRECT_DATA);
      if (g[0] !== 9) throw new SwError(SW.FUNC_NOT_SUPPORTED); // Ed25519: not in this virtual device
      curve = 'x25519';
    } else throw new SwError(SW.FUNC_NOT_SUPPORTED);
    const text = (v: Uint8Array | undefined, dflt: string) => (v && v.length > 0 ? new TextDecoder().decode(v) : dflt);
    const car = text(find(list, 0x42), DEFAULT_CAR);
    const chr = text(find(list, 0x5f20), DEFAULT_CHR);
    const priv = curve === 'p256' ? p256.utils.randomSecretKey() : x25519.utils.randomSecretKey();
    const pub = curve === 'p256' ? p256.getPublicKey(priv, false) : x25519.getPublicKey(priv);
    const cert = certificate(certificateBody(car, publicKeyObject(curve, pub), chr), curve === 'p256' ? priv : null);
    const request = authenticatedRequest(cert, this.deviceChr(), unhex(this.s.deviceKey!));
    const key: HsmKey = { curve, privateKey: hex(priv) };
    const algorithms = find(list, 0x91);
    if (algorithms) key.algorithms = [...algorithms];
    const id = cmd.p1.toString(16).padStart(2, '0');
    this.s.keys[id] = key;
    this.s.files[`ce${id}`] = hex(request);
    await this.store.save();
    return ok(request);
  }

  private async decipher(cmd: CommandApdu): Promise<Uint8Array> {
    this.requirePin();
    const key = this.s.keys[cmd.p1.toString(16).padStart(2, '0')];
    if (!key) throw new SwError(SW.NOT_FOUND);
    if (cmd.p2 !== ALGO_EC_DH) throw new SwError(SW.WRONG_P1P2);
    if (key.algorithms && !key.algorithms.includes(ALGO_EC_DH)) throw new SwError(SW.CONDITIONS);
    if (this.events.buttonEnabled()) {
      const outcome = await this.events.button();
      if (outcome !== 'approve') throw new SwError(SW_BUTTON_TIMEOUT);
    }
    const priv = unhex(key.privateKey);
    let secret: Uint8Array;
    try {
      if (key.curve === 'p256') {
        if (cmd.data.length !== 65 || cmd.data[0] !== 0x04) throw new SwError(SW.DATA_INVALID);
        secret = p256.getSharedSecret(priv, cmd.data, true).subarray(1);
      } else {
        if (cmd.data.length !== 32) throw new SwError(SW.DATA_INVALID);
        secret = x25519.getSharedSecret(priv, cmd.data);
      }
    } catch (e) {
      if (e instanceof SwError) throw e;
      throw new SwError(SW.DATA_INVALID);
    }
    return ok(concatBytes(Uint8Array.of(0x04), secret));
  }
}

/** PKCS#15 description of the device key, in the layout the Pico HSM firmware writes it. */
function devicePrkd(): Uint8Array {
  const label = new TextEncoder().encode(DEVICE_KEY_LABEL);
  return tlv(
    0xa0,
    concatBytes(
      tlv(0x30, tlv(0x0c, label)),
      tlv(0x30, concatBytes(tlv(0x04, new Uint8Array(20)), tlv(0x03, Uint8Array.of(0x07, 0x20, 0x80)))),
      tlv(0xa1, tlv(0x30, concatBytes(tlv(0x30, tlv(0x04, new Uint8Array(0))), tlv(0x02, Uint8Array.of(0x01, 0x00))))),
    ),
  );
}
