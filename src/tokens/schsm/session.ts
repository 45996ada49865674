/**
 * `ScHsmSession`: the SmartCard-HSM application (as on a Pico HSM), one method per card operation
 * over an APDU transport, with extended-length APDUs (key generation answers, file reads, object
 * enumeration and ECDH with a 65-byte point exceed short APDUs). Status words become
 * `ScHsmError`s in the shared token vocabulary.
 */
import { ApduProtocol, TransportError, type Response } from '../../transport/apdu.ts';
import { concatBytes, encodeLength, readTlv, tlvMap, TlvError } from '../../transport/tlv.ts';
import type { ApduTransport } from '../../transport/types.ts';
import { ALGO_EC_DH, EF_DEVICE_CERTIFICATE, Ins, Option, PIN_MAX, PIN_MIN, Prefix, SCHSM_AID, Sw, USER_PIN } from './constants.ts';
import { keyGenerationData, parseCvObject, type Curve, type CvPublicKey } from './cvRequest.ts';
import { ScHsmError } from './errors.ts';
import { decodePrkd, type KeyDescription } from './prkd.ts';

export interface DeviceInfo {
  /** Applet version (major, minor), e.g. [5, 4]. */
  version: [number, number];
  /** Device options (0x0001 reset retry counter, 0x0100 press-to-confirm button, …). */
  options: number;
  /** Whether private-key operations wait for the press-to-confirm button. */
  button: boolean;
}

export type PinStatus =
  | { initialised: false }
  | { initialised: true; verified: true }
  | { initialised: true; verified: false; retriesLeft: number };

/** Upper bound on one file read (the device's files are far smaller). */
const MAX_FILE = 0x8000;

const swHex = (sw: number) => sw.toString(16).toUpperCase().padStart(4, '0');

function statusError(sw: number, what: string): ScHsmError {
  switch (sw) {
    case Sw.SECURITY_STATUS:
      return new ScHsmError('NOT_LOGGED_IN', `${what}: the PIN must be verified first`, { sw });
    case Sw.AUTH_BLOCKED:
      return new ScHsmError('PIN_BLOCKED', 'The Pico HSM PIN is blocked', { sw });
    case Sw.BUTTON_TIMEOUT:
      return new ScHsmError('TOUCH_TIMEOUT', 'The button on the Pico HSM was not pressed in time', { sw });
    case Sw.NOT_FOUND:
      return new ScHsmError('NOT_FOUND', `${what}: no such key or file on the device`, { sw });
    case Sw.FUNC_NOT_SUPPORTED:
      return new ScHsmError('NOT_SUPPORTED', `${what}: not supported by this device`, { sw });
    case Sw.DATA_INVALID:
      return new ScHsmError('BAD_INPUT', `${what}: the device rejected the data (invalid public key?)`, { sw });
    case Sw.CONDITIONS:
      return new ScHsmError('NOT_ALLOWED', `${what}: the key may not be used for this`, { sw });
    case Sw.FILE_FULL:
      return new ScHsmError('NOT_ALLOWED', `${what}: the key's use counter is exhausted`, { sw });
    case Sw.REFERENCE_NOT_FOUND:
      return new ScHsmError('NOT_INITIALISED', 'The Pico HSM is not initialised', { sw });
    default:
      return new ScHsmError('CARD', `${what} failed with status ${swHex(sw)}`, { sw });
  }
}

function transportError(e: unknown): never {
  if (e instanceof TransportError && (e.code === 'CARD_REMOVED' || e.code === 'CLOSED')) throw new ScHsmError('CARD_REMOVED', 'The Pico HSM was removed', { cause: e });
  if (e instanceof TransportError && e.code === 'READER_BUSY') throw new ScHsmError('READER_BUSY', e.message, { cause: e });
  // Answers without a status word, or 61xx chaining without end: the device misbehaves.
  if (e instanceof TransportError && e.code === 'BAD_RESPONSE') throw new ScHsmError('CARD', e.message, { cause: e });
  throw e;
}

export class ScHsmSession {
  /** Extended-length APDUs throughout, as OpenSC talks to the SmartCard-HSM. */
  readonly protocol: ApduProtocol;

  constructor(readonly transport: ApduTransport) {
    this.protocol = new ApduProtocol(transport, { format: 'extended' });
  }

  /** Command APDUs sent, GET RESPONSEs included. */
  get apduCount(): number {
    return this.protocol.apduCount;
  }

  private async send(cla: number, ins: number, p1: number, p2: number, data: Uint8Array = new Uint8Array(0)): Promise<Response> {
    try {
      const r = await this.protocol.sendRaw(cla, ins, p1, p2, data);
      if (r.data.length > MAX_FILE) throw new ScHsmError('CARD', 'The device sent an over-long response');
      return r;
    } catch (e) {
      // A device pulled out in the middle of a command can leave an empty answer or a failed
      // transaction behind: the next exchange tells removal from other failures (an empty VERIFY
      // changes nothing).
      if (e instanceof TransportError && (e.code === 'BAD_RESPONSE' || e.code === 'PCSC')) {
        try {
          await this.transport.transmit(Uint8Array.of(0x00, Ins.VERIFY, 0x00, USER_PIN));
        } catch (probe) {
          // That one failing too, just after the device was pulled out, is the connection lost
          // (pcscd may not report the removal yet).
          if (probe instanceof TransportError && (probe.code === 'PCSC' || probe.code === 'BAD_RESPONSE')) throw new ScHsmError('CARD_REMOVED', 'The Pico HSM was removed', { cause: probe });
          transportError(probe);
        }
      }
      transportError(e);
    }
  }

  private expectOk(what: string, r: Response): Uint8Array {
    if (r.sw !== Sw.OK) throw statusError(r.sw, what);
    return r.data;
  }

  /** SELECT the SmartCard-HSM application; returns its version and device options. */
  async select(): Promise<DeviceInfo> {
    const r = await this.send(0x00, Ins.SELECT, 0x04, 0x00, SCHSM_AID);
    if (r.sw === Sw.NOT_FOUND) throw new ScHsmError('APPLET_NOT_FOUND', 'The card has no SmartCard-HSM application', { sw: r.sw });
    const fci = this.expectOk('Selecting the SmartCard-HSM application', r);
    let prop: Uint8Array | undefined;
    try {
      const { tlv: t } = readTlv(fci, 0);
      prop = (t.tag === 0x62 || t.tag === 0x6f ? tlvMap(t.value) : new Map<number, Uint8Array>()).get(0x85);
    } catch (e) {
      if (!(e instanceof TlvError)) throw e;
    }
    if (!prop || prop.length < 4) return { version: [0, 0], options: 0, button: false };
    const options = prop.length >= 5 ? (prop[0]! << 8) | prop[1]! : 0;
    return { version: [prop[prop.length - 2]!, prop[prop.length - 1]!], options, button: (options & Option.BUTTON) !== 0 };
  }

  /** Empty VERIFY: whether the PIN is verified in this session and the tries left; spends no try. */
  async pinStatus(): Promise<PinStatus> {
    const r = await this.send(0x00, Ins.VERIFY, 0x00, USER_PIN, new Uint8Array(0));
    if (r.sw === Sw.OK) return { initialised: true, verified: true };
    if ((r.sw & 0xfff0) === 0x63c0) return { initialised: true, verified: false, retriesLeft: r.sw & 0x0f };
    if (r.sw === Sw.AUTH_BLOCKED) return { initialised: true, verified: false, retriesLeft: 0 };
    if (r.sw === Sw.REFERENCE_NOT_FOUND) return { initialised: false };
    throw statusError(r.sw, 'PIN status query');
  }

  async verifyPin(pin: string): Promise<void> {
    const bytes = new TextEncoder().encode(pin);
    if (bytes.length < PIN_MIN || bytes.length > PIN_MAX) throw new ScHsmError('BAD_INPUT', `The Pico HSM PIN is ${PIN_MIN} to ${PIN_MAX} characters long`);
    const r = await this.send(0x00, Ins.VERIFY, 0x00, USER_PIN, bytes);
    if (r.sw === Sw.OK) return;
    if ((r.sw & 0xfff0) === 0x63c0 && (r.sw & 0x0f) > 0) {
      const left = r.sw & 0x0f;
      throw new ScHsmError('PIN_INVALID', `Invalid PIN (${left} ${left === 1 ? 'try' : 'tries'} remaining before it is blocked)`, { sw: r.sw, retriesLeft: left });
    }
    if ((r.sw & 0xfff0) === 0x63c0) throw statusError(Sw.AUTH_BLOCKED, 'VERIFY');
    throw statusError(r.sw, 'VERIFY');
  }

  /** ENUMERATE OBJECTS: the file identifiers of keys (CCxx), key descriptions (C4xx), … */
  async listFiles(): Promise<number[]> {
    const data = this.expectOk('ENUMERATE OBJECTS', await this.send(0x80, Ins.ENUMERATE_OBJECTS, 0x00, 0x00, new Uint8Array(0)));
    const out: number[] = [];
    for (let i = 0; i + 1 < data.length; i += 2) {
      const fid = (data[i]! << 8) | data[i + 1]!;
      if (fid !== 0) out.push(fid);
    }
    return out;
  }

  /** Ids of the key pairs on the device (key 0, the device's own key, included). */
  async listKeyIds(): Promise<number[]> {
    return (await this.listFiles())
      .filter((f) => f >> 8 === Prefix.KEY)
      .map((f) => f & 0xff)
      .sort((a, b) => a - b);
  }

  /** Smallest key id from 1 that holds no key. */
  async freeKeyId(): Promise<number> {
    const used = new Set(await this.listKeyIds());
    for (let id = 1; id < 256; id++) if (!used.has(id)) return id;
    throw new ScHsmError('NOT_ALLOWED', 'The Pico HSM has no free key slot (255 keys)');
  }

  /** READ BINARY (odd instruction, file selected by id) of a whole elementary file. */
  async readFile(fid: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let offset = 0;
    for (;;) {
      const data = Uint8Array.of(0x54, 0x02, offset >> 8, offset & 0xff);
      const r = await this.send(0x00, Ins.READ_BINARY_ODD, fid >> 8, fid & 0xff, data);
      if (r.sw === 0x6282 && offset > 0) break;
      const chunk = this.expectOk(`Reading file ${fid.toString(16).toUpperCase()}`, r);
      parts.push(chunk);
      offset += chunk.length;
      // The device answers with the rest of the file in one response; a short one is the end.
      if (chunk.length === 0 || chunk.length < 0xffff) break;
      if (offset > MAX_FILE) throw new ScHsmError('CARD', 'The device returned an over-long file');
    }
    return concatBytes(...parts);
  }

  /** The public key of key `keyId` (from the CV request the device stored at generation). */
  async readPublicKey(keyId: number): Promise<CvPublicKey> {
    return parseCvObject(await this.readFile((Prefix.EE_CERTIFICATE << 8) | keyId));
  }

  /** The PKCS#15 description (label, id, usage) of key `keyId`, or null when it has none. */
  async readKeyDescription(keyId: number): Promise<KeyDescription | null> {
    try {
      return decodePrkd(await this.readFile((Prefix.PRKD << 8) | keyId));
    } catch (e) {
      if (e instanceof ScHsmError && e.code === 'NOT_FOUND') return null;
      throw e;
    }
  }

  /** The device serial: the holder reference of the device certificate without its 5-digit sequence number (as OpenSC shows it). */
  async serial(): Promise<string> {
    let cert: Uint8Array;
    try {
      cert = await this.readFile(EF_DEVICE_CERTIFICATE);
    } catch (e) {
      if (e instanceof ScHsmError && e.code === 'NOT_FOUND') throw new ScHsmError('NOT_INITIALISED', 'The Pico HSM is not initialised (no device certificate)');
      throw e;
    }
    if (cert.length === 0) throw new ScHsmError('NOT_INITIALISED', 'The Pico HSM is not initialised (no device certificate)');
    const { chr } = parseCvObject(cert);
    if (!/^[\x20-\x7e]{6,16}$/.test(chr)) throw new ScHsmError('CARD', 'The device certificate has a malformed holder reference');
    return chr.slice(0, -5);
  }

  /** GENERATE ASYMMETRIC KEY PAIR into key id `keyId`; returns the new public key. Needs the PIN. */
  async generateKey(keyId: number, curve: Curve, opts: { car?: string; chr: string; algorithms?: readonly number[] }): Promise<CvPublicKey> {
    if (!Number.isInteger(keyId) || keyId < 1 || keyId > 255) throw new ScHsmError('BAD_INPUT', 'key id must be 1 to 255');
    const data = keyGenerationData(curve, { car: opts.car ?? 'UTCA00001', chr: opts.chr, ...(opts.algorithms ? { algorithms: opts.algorithms } : {}) });
    const r = await this.send(0x00, Ins.GENERATE_KEY_PAIR, keyId, 0x00, data);
    const key = parseCvObject(this.expectOk('Key generation', r));
    if (key.curve !== curve) throw new ScHsmError('CARD', `The device generated a key of another kind than asked (${key.curve ?? 'unknown'})`);
    return key;
  }

  /** Writes (creates or replaces) the PKCS#15 description of key `keyId`. Needs the PIN. */
  async writeKeyDescription(keyId: number, prkd: Uint8Array): Promise<void> {
    await this.writeFile((Prefix.PRKD << 8) | keyId, prkd, 'Writing the key description');
  }

  /** UPDATE EF (odd instruction, offset 0): creates or replaces elementary file `fid`. Needs the PIN. */
  async writeFile(fid: number, content: Uint8Array, what = `Writing file ${fid.toString(16).toUpperCase()}`): Promise<void> {
    const data = concatBytes(Uint8Array.of(0x54, 0x02, 0x00, 0x00, 0x53), encodeLength(content.length), content);
    this.expectOk(what, await this.send(0x00, Ins.UPDATE_EF, fid >> 8, fid & 0xff, data));
  }

  /**
   * ECDH with key `keyId` and the peer's public key (P-256: 65-byte uncompressed point; X25519:
   * 32 bytes). Returns the 32-byte shared secret (the device's leading 04 dropped). Needs the PIN
   * and, on devices with the option, a press of the button.
   */
  async ecdh(keyId: number, peer: Uint8Array): Promise<Uint8Array> {
    if (peer.length !== 65 && peer.length !== 32) throw new ScHsmError('BAD_INPUT', 'peer public key must be 65 (P-256) or 32 (X25519) bytes');
    const r = await this.send(0x80, Ins.DECIPHER, keyId, ALGO_EC_DH, peer);
    const out = this.expectOk('ECDH', r);
    if (out.length !== 33 || out[0] !== 0x04) throw new ScHsmError('CARD', 'The device returned a malformed ECDH result');
    return out.slice(1);
  }

  /** Deletes key `keyId` with its description and public key object. Needs the PIN. */
  async deleteKey(keyId: number): Promise<void> {
    if (keyId < 1 || keyId > 255) throw new ScHsmError('BAD_INPUT', 'key id must be 1 to 255');
    const del = async (prefix: number, required: boolean) => {
      const r = await this.send(0x00, Ins.DELETE_FILE, 0x02, 0x00, Uint8Array.of(prefix, keyId));
      if (r.sw === Sw.NOT_FOUND && !required) return;
      this.expectOk('DELETE FILE', r);
    };
    await del(Prefix.KEY, true);
    await del(Prefix.PRKD, false);
    await del(Prefix.EE_CERTIFICATE, false);
  }
}
