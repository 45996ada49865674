/**
 * The PIV application of the virtual YubiKey, written from NIST SP 800-73-4 and Yubico's PIV
 * extensions (not from keybridge's host-side code): PIN/PUK with retry counters, management-key
 * mutual authentication (TDES / AES), key generation with PIN and touch policies, ECDH and ECDSA,
 * data objects, metadata, version and serial.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { concatBytes, tlv, tlvMap, TlvError } from '../../transport/tlv.ts';
import { response, SW, SwError, type CommandApdu } from '../apdu.ts';
import { refusal, retriesSw } from '../retries.ts';
import { StoredApplet } from '../applet.ts';
import type { PresenceBehaviour } from '../pluggedCard.ts';
import { versionAtLeast, type SlotState, type YubiKeyState } from './state.ts';
import { attestationCaCertificate, attestationCertificate } from './attestation.ts';

const ALG = { P256: 0x11, P384: 0x14, X25519: 0xe1, ED25519: 0xe0, TDES: 0x03, AES128: 0x08, AES192: 0x0a, AES256: 0x0c, PIN: 0xff } as const;
const PIN_POLICY = { DEFAULT: 0, NEVER: 1, ONCE: 2, ALWAYS: 3 } as const;
const TOUCH_POLICY = { DEFAULT: 0, NEVER: 1, ALWAYS: 2, CACHED: 3 } as const;
const TOUCH_CACHE_MS = 15_000;

export type TouchBehaviour = PresenceBehaviour;

const KEY_SLOTS = new Set([0x9a, 0x9c, 0x9d, 0x9e, ...Array.from({ length: 20 }, (_, i) => 0x82 + i)]);

function mgmtCipher(alg: number): { name: string; keyLen: number; block: number } {
  switch (alg) {
    case ALG.TDES:
      return { name: 'des-ede3', keyLen: 24, block: 8 };
    case ALG.AES128:
      return { name: 'aes-128-ecb', keyLen: 16, block: 16 };
    case ALG.AES192:
      return { name: 'aes-192-ecb', keyLen: 24, block: 16 };
    case ALG.AES256:
      return { name: 'aes-256-ecb', keyLen: 32, block: 16 };
    default:
      throw new SwError(SW.INCORRECT_P1P2);
  }
}

function encryptBlock(alg: number, key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = createCipheriv(mgmtCipher(alg).name, key, null);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(block), c.final()]));
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

function unpad(b: Uint8Array): string {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0xff) end--;
  return Buffer.from(b.subarray(0, end)).toString('utf8');
}

function defaultPinPolicy(slot: number): number {
  if (slot === 0x9c) return PIN_POLICY.ALWAYS;
  if (slot === 0x9e) return PIN_POLICY.NEVER;
  return PIN_POLICY.ONCE;
}

function publicKeyOf(s: SlotState): Uint8Array {
  const sk = unhex(s.privateKey);
  if (s.algorithm === ALG.P256) return p256.getPublicKey(sk, false);
  if (s.algorithm === ALG.P384) return p384.getPublicKey(sk, false);
  return x25519.getPublicKey(sk);
}

export interface PivEvents {
  /** Waits for (or refuses) a touch; resolves true when touched. */
  touch(): Promise<boolean>;
}

export class PivApplet extends StoredApplet<YubiKeyState, PivEvents> {
  // Volatile (cleared on reset / power cycle).
  private pinVerified = false;
  /** PIN policy "always": a verification is consumed by one private-key operation. */
  private pinFresh = false;
  private mgmtAuthenticated = false;
  private witness: Uint8Array | null = null;
  private touchedAt = -Infinity;

  reset(): void {
    this.pinVerified = false;
    this.pinFresh = false;
    this.mgmtAuthenticated = false;
    this.witness = null;
  }

  selectResponse(): Uint8Array {
    // Application property template: AID (PIX) and coexistent tag allocation authority.
    return response(Uint8Array.from([0x61, 0x10, 0x4f, 0x05, 0x00, 0x00, 0x10, 0x00, 0x01, 0x79, 0x07, 0x4f, 0x05, 0xa0, 0x00, 0x00, 0x03, 0x08]), SW.OK);
  }

  async process(cmd: CommandApdu): Promise<Uint8Array> {
    if ((cmd.cla & 0xef) !== 0x00) throw new SwError(SW.CLA_NOT_SUPPORTED);
    switch (cmd.ins) {
      case 0xfd:
        return response(Uint8Array.from(this.s.version), SW.OK);
      case 0xf8:
        if (!versionAtLeast(this.s.version, 5, 0)) throw new SwError(SW.INS_NOT_SUPPORTED);
        return response(Uint8Array.of(this.s.serial >>> 24, (this.s.serial >>> 16) & 0xff, (this.s.serial >>> 8) & 0xff, this.s.serial & 0xff), SW.OK);
      case 0x20:
        return this.verify(cmd);
      case 0x24:
        return this.changeReference(cmd);
      case 0x2c:
        return this.resetRetry(cmd);
      case 0x87:
        return this.generalAuthenticate(cmd);
      case 0x47:
        return this.generate(cmd);
      case 0xcb:
        return this.getData(cmd);
      case 0xdb:
        return this.putData(cmd);
      case 0xf7:
        return this.metadata(cmd);
      case 0xff:
        return this.setMgmtKey(cmd);
      case 0xfa:
        return this.setPinRetries(cmd);
      case 0xf9:
        return this.attest(cmd);
      default:
        throw new SwError(SW.INS_NOT_SUPPORTED);
    }
  }

  private async verify(cmd: CommandApdu): Promise<Uint8Array> {
    if (cmd.p1 === 0xff && cmd.p2 === 0x80 && cmd.data.length === 0) {
      this.pinVerified = false;
      this.pinFresh = false;
      return response(new Uint8Array(0), SW.OK);
    }
    if (cmd.p1 !== 0x00 || cmd.p2 !== 0x80) throw new SwError(SW.WRONG_P1P2);
    if (cmd.data.length === 0) {
      if (this.pinVerified) return response(new Uint8Array(0), SW.OK);
      return retriesSw(this.s.pinRetriesLeft);
    }
    if (cmd.data.length !== 8) throw new SwError(SW.INCORRECT_DATA);
    if (this.s.pinRetriesLeft === 0) throw new SwError(SW.AUTH_BLOCKED);
    const refused = await refusal(this.s, 'pinRetriesLeft', unpad(cmd.data) === this.s.pin, this.save);
    if (refused) {
      this.pinVerified = false;
      this.pinFresh = false;
      return refused;
    }
    this.s.pinRetriesLeft = this.s.pinRetries;
    await this.store.save();
    this.pinVerified = true;
    this.pinFresh = true;
    return response(new Uint8Array(0), SW.OK);
  }

  private checkNewPin(value: string): void {
    const len = Buffer.byteLength(value);
    if (len < 6 || len > 8) throw new SwError(SW.INCORRECT_DATA);
  }

  private async changeReference(cmd: CommandApdu): Promise<Uint8Array> {
    if (cmd.p1 !== 0x00 || (cmd.p2 !== 0x80 && cmd.p2 !== 0x81)) throw new SwError(SW.WRONG_P1P2);
    if (cmd.data.length !== 16) throw new SwError(SW.INCORRECT_DATA);
    const isPin = cmd.p2 === 0x80;
    const newValue = unpad(cmd.data.subarray(8));
    const refused = await refusal(this.s, isPin ? 'pinRetriesLeft' : 'pukRetriesLeft', unpad(cmd.data.subarray(0, 8)) === (isPin ? this.s.pin : this.s.puk), this.save);
    if (refused) return refused;
    this.checkNewPin(newValue);
    if (isPin) {
      this.s.pin = newValue;
      this.s.pinRetriesLeft = this.s.pinRetries;
      this.s.pinIsDefault = false;
      this.pinVerified = true;
    } else {
      this.s.puk = newValue;
      this.s.pukRetriesLeft = this.s.pukRetries;
      this.s.pukIsDefault = false;
    }
    await this.store.save();
    return response(new Uint8Array(0), SW.OK);
  }

  private async resetRetry(cmd: CommandApdu): Promise<Uint8Array> {
    if (cmd.p1 !== 0x00 || cmd.p2 !== 0x80) throw new SwError(SW.WRONG_P1P2);
    if (cmd.data.length !== 16) throw new SwError(SW.INCORRECT_DATA);
    const refused = await refusal(this.s, 'pukRetriesLeft', unpad(cmd.data.subarray(0, 8)) === this.s.puk, this.save);
    if (refused) return refused;
    const newPin = unpad(cmd.data.subarray(8));
    this.checkNewPin(newPin);
    this.s.pin = newPin;
    this.s.pinRetriesLeft = this.s.pinRetries;
    this.s.pukRetriesLeft = this.s.pukRetries;
    await this.store.save();
    return response(new Uint8Array(0), SW.OK);
  }

  private async setPinRetries(cmd: CommandApdu): Promise<Uint8Array> {
    if (!this.mgmtAuthenticated || !this.pinVerified) throw new SwError(SW.SECURITY_STATUS);
    if (cmd.p1 < 1 || cmd.p2 < 1 || cmd.p1 > 15 || cmd.p2 > 15) throw new SwError(SW.INCORRECT_P1P2);
    Object.assign(this.s, { pinRetries: cmd.p1, pinRetriesLeft: cmd.p1, pukRetries: cmd.p2, pukRetriesLeft: cmd.p2, pin: '123456', puk: '12345678', pinIsDefault: true, pukIsDefault: true });
    await this.store.save();
    return response(new Uint8Array(0), SW.OK);
  }

  private parseDynAuth(data: Uint8Array): Map<number, Uint8Array> {
    try {
      const outer = tlvMap(data);
      const inner = outer.get(0x7c);
      if (!inner) throw new SwError(SW.INCORRECT_DATA);
      return tlvMap(inner);
    } catch (e) {
      if (e instanceof TlvError) throw new SwError(SW.INCORRECT_DATA);
      throw e;
    }
  }

  private async generalAuthenticate(cmd: CommandApdu): Promise<Uint8Array> {
    const fields = this.parseDynAuth(cmd.data);
    if (cmd.p2 === 0x9b) return this.mgmtAuthenticate(cmd.p1, fields);
    if (!KEY_SLOTS.has(cmd.p2)) throw new SwError(SW.INCORRECT_P1P2);
    const slot = this.s.slots[cmd.p2.toString(16)];
    if (!slot) throw new SwError(SW.NOT_FOUND);
    if (slot.algorithm !== cmd.p1) throw new SwError(SW.INCORRECT_P1P2);
    const peer = fields.get(0x85);
    const challenge = fields.get(0x81);
    if (!fields.has(0x82) || (!peer && !challenge)) throw new SwError(SW.INCORRECT_DATA);
    // PIN policy
    const pinPolicy = slot.pinPolicy || defaultPinPolicy(cmd.p2);
    if (pinPolicy === PIN_POLICY.ONCE && !this.pinVerified) throw new SwError(SW.SECURITY_STATUS);
    if (pinPolicy === PIN_POLICY.ALWAYS && !this.pinFresh) throw new SwError(SW.SECURITY_STATUS);
    // Touch policy
    const touchPolicy = slot.touchPolicy || TOUCH_POLICY.NEVER;
    if (touchPolicy === TOUCH_POLICY.ALWAYS || (touchPolicy === TOUCH_POLICY.CACHED && Date.now() - this.touchedAt > TOUCH_CACHE_MS)) {
      if (!(await this.events.touch())) throw new SwError(SW.SECURITY_STATUS);
      this.touchedAt = Date.now();
    }
    if (pinPolicy === PIN_POLICY.ALWAYS) this.pinFresh = false;
    const sk = unhex(slot.privateKey);
    let out: Uint8Array;
    try {
      if (peer) {
        if (slot.algorithm === ALG.P256) out = p256.getSharedSecret(sk, peer, true).subarray(1);
        else if (slot.algorithm === ALG.P384) out = p384.getSharedSecret(sk, peer, true).subarray(1);
        else if (slot.algorithm === ALG.X25519) out = x25519.getSharedSecret(sk, peer);
        else throw new SwError(SW.INCORRECT_P1P2);
      } else {
        if (slot.algorithm === ALG.P256 && challenge!.length <= 32) out = p256.sign(padDigest(challenge!, 32), sk, { prehash: false, format: 'der' });
        else if (slot.algorithm === ALG.P384 && challenge!.length <= 48) out = p384.sign(padDigest(challenge!, 48), sk, { prehash: false, format: 'der' });
        else throw new SwError(SW.INCORRECT_DATA);
      }
    } catch (e) {
      if (e instanceof SwError) throw e;
      throw new SwError(SW.INCORRECT_DATA);
    }
    return response(tlv(0x7c, tlv(0x82, out)), SW.OK);
  }

  private mgmtAuthenticate(alg: number, fields: Map<number, Uint8Array>): Uint8Array {
    if (alg !== this.s.mgmtAlgorithm) {
      this.witness = null;
      throw new SwError(SW.INCORRECT_P1P2);
    }
    const { block } = mgmtCipher(alg);
    const key = unhex(this.s.mgmtKey);
    const w = fields.get(0x80);
    const c = fields.get(0x81);
    if (w && w.length === 0 && !c) {
      // Step 1: the card's witness, encrypted.
      this.witness = new Uint8Array(randomBytes(block));
      this.mgmtAuthenticated = false;
      return response(tlv(0x7c, tlv(0x80, encryptBlock(alg, key, this.witness))), SW.OK);
    }
    if (w && c && this.witness) {
      const expected = this.witness;
      this.witness = null;
      if (w.length !== block || c.length !== block || !w.every((b, i) => b === expected[i])) {
        this.mgmtAuthenticated = false;
        throw new SwError(SW.SECURITY_STATUS);
      }
      this.mgmtAuthenticated = true;
      return response(tlv(0x7c, tlv(0x82, encryptBlock(alg, key, c))), SW.OK);
    }
    this.witness = null;
    throw new SwError(SW.INCORRECT_DATA);
  }

  private async generate(cmd: CommandApdu): Promise<Uint8Array> {
    if (!this.mgmtAuthenticated) throw new SwError(SW.SECURITY_STATUS);
    if (cmd.p1 !== 0x00 || !KEY_SLOTS.has(cmd.p2)) throw new SwError(SW.WRONG_P1P2);
    let params: Map<number, Uint8Array>;
    try {
      const ac = tlvMap(cmd.data).get(0xac);
      if (!ac) throw new SwError(SW.INCORRECT_DATA);
      params = tlvMap(ac);
    } catch (e) {
      if (e instanceof TlvError) throw new SwError(SW.INCORRECT_DATA);
      throw e;
    }
    const alg = params.get(0x80)?.[0];
    const pin = params.get(0xaa)?.[0] ?? PIN_POLICY.DEFAULT;
    const touch = params.get(0xab)?.[0] ?? TOUCH_POLICY.DEFAULT;
    if (pin > PIN_POLICY.ALWAYS || touch > TOUCH_POLICY.CACHED) throw new SwError(SW.INCORRECT_DATA);
    let sk: Uint8Array;
    if (alg === ALG.P256) sk = p256.utils.randomSecretKey();
    else if (alg === ALG.P384) sk = p384.utils.randomSecretKey();
    else if (alg === ALG.X25519 && versionAtLeast(this.s.version, 5, 7)) sk = x25519.utils.randomSecretKey();
    else throw new SwError(SW.INCORRECT_DATA);
    const slot: SlotState = { algorithm: alg, privateKey: hex(sk), pinPolicy: pin, touchPolicy: touch, origin: 1 };
    this.s.slots[cmd.p2.toString(16)] = slot;
    await this.store.save();
    return response(tlv(0x7f49, tlv(0x86, publicKeyOf(slot))), SW.OK);
  }

  private objectId(data: Uint8Array): string {
    let id: Uint8Array | undefined;
    try {
      id = tlvMap(data).get(0x5c);
    } catch {
      throw new SwError(SW.INCORRECT_DATA);
    }
    if (!id || id.length < 1 || id.length > 3) throw new SwError(SW.INCORRECT_DATA);
    return hex(id);
  }

  private async getData(cmd: CommandApdu): Promise<Uint8Array> {
    if (cmd.p1 !== 0x3f || cmd.p2 !== 0xff) throw new SwError(SW.WRONG_P1P2);
    const id = this.objectId(cmd.data);
    if (id === '7e') {
      // Discovery object: PIV AID and PIN usage policy.
      return response(tlv(0x7e, concatBytes(tlv(0x4f, Uint8Array.from([0xa0, 0, 0, 3, 8, 0, 0, 0x10, 0, 1, 0])), tlv(0x5f2f, Uint8Array.of(0x40, 0x00)))), SW.OK);
    }
    if (id === '5fc109' && !this.pinVerified) throw new SwError(SW.SECURITY_STATUS);
    if (id === '5fff01') await this.attestationKey();
    const value = this.s.objects[id];
    if (value === undefined) throw new SwError(SW.NOT_FOUND);
    return response(tlv(0x53, unhex(value)), SW.OK);
  }

  private async putData(cmd: CommandApdu): Promise<Uint8Array> {
    if (cmd.p1 !== 0x3f || cmd.p2 !== 0xff) throw new SwError(SW.WRONG_P1P2);
    if (!this.mgmtAuthenticated) throw new SwError(SW.SECURITY_STATUS);
    let fields: Map<number, Uint8Array>;
    try {
      fields = tlvMap(cmd.data);
    } catch {
      throw new SwError(SW.INCORRECT_DATA);
    }
    const id = fields.get(0x5c);
    const value = fields.get(0x53);
    if (!id || value === undefined) throw new SwError(SW.INCORRECT_DATA);
    const key = hex(id);
    if (value.length === 0) delete this.s.objects[key];
    else this.s.objects[key] = hex(value);
    await this.store.save();
    return response(new Uint8Array(0), SW.OK);
  }

  private metadata(cmd: CommandApdu): Uint8Array {
    if (!versionAtLeast(this.s.version, 5, 3)) throw new SwError(SW.INS_NOT_SUPPORTED);
    const slot = cmd.p2;
    if (slot === 0x80 || slot === 0x81) {
      const isPin = slot === 0x80;
      return response(
        concatBytes(
          tlv(0x01, Uint8Array.of(ALG.PIN)),
          tlv(0x02, Uint8Array.of(0, 0)),
          tlv(0x05, Uint8Array.of(isPin ? +this.s.pinIsDefault : +this.s.pukIsDefault)),
          tlv(0x06, Uint8Array.of(isPin ? this.s.pinRetries : this.s.pukRetries, isPin ? this.s.pinRetriesLeft : this.s.pukRetriesLeft)),
        ),
        SW.OK,
      );
    }
    if (slot === 0x9b) {
      return response(
        concatBytes(
          tlv(0x01, Uint8Array.of(this.s.mgmtAlgorithm)),
          tlv(0x02, Uint8Array.of(0, this.s.mgmtTouch ? TOUCH_POLICY.ALWAYS : TOUCH_POLICY.NEVER)),
          tlv(0x05, Uint8Array.of(+this.s.mgmtIsDefault)),
        ),
        SW.OK,
      );
    }
    if (!KEY_SLOTS.has(slot)) throw new SwError(SW.INCORRECT_P1P2);
    const st = this.s.slots[slot.toString(16)];
    if (!st) throw new SwError(SW.NOT_FOUND);
    return response(
      concatBytes(
        tlv(0x01, Uint8Array.of(st.algorithm)),
        tlv(0x02, Uint8Array.of(st.pinPolicy || defaultPinPolicy(slot), st.touchPolicy || TOUCH_POLICY.NEVER)),
        tlv(0x03, Uint8Array.of(st.origin)),
        tlv(0x04, tlv(0x86, publicKeyOf(st))),
      ),
      SW.OK,
    );
  }

  /** The attestation key, generated with its certificate (object 5FFF01) on first use. */
  private async attestationKey(): Promise<Uint8Array> {
    if (!this.s.attestationKey) {
      const key = p256.utils.randomSecretKey();
      this.s.attestationKey = hex(key);
      this.s.objects['5fff01'] = hex(concatBytes(tlv(0x70, attestationCaCertificate(key)), tlv(0x71, Uint8Array.of(0)), tlv(0xfe, new Uint8Array(0))));
      await this.store.save();
    }
    return unhex(this.s.attestationKey);
  }

  private async attest(cmd: CommandApdu): Promise<Uint8Array> {
    if (!versionAtLeast(this.s.version, 4, 3)) throw new SwError(SW.INS_NOT_SUPPORTED);
    if (!KEY_SLOTS.has(cmd.p1) || cmd.p2 !== 0x00) throw new SwError(SW.WRONG_P1P2);
    const slot = this.s.slots[cmd.p1.toString(16)];
    if (!slot) throw new SwError(SW.NOT_FOUND);
    if (slot.origin !== 1) throw new SwError(SW.INCORRECT_DATA); // only keys made on the card
    const f9 = await this.attestationKey();
    const cert = attestationCertificate(
      { slot: cmd.p1, algorithm: slot.algorithm, publicKey: publicKeyOf(slot), pinPolicy: slot.pinPolicy || defaultPinPolicy(cmd.p1), touchPolicy: slot.touchPolicy || TOUCH_POLICY.NEVER },
      { version: this.s.version, serial: this.s.serial },
      f9,
    );
    return response(cert, SW.OK);
  }

  private async setMgmtKey(cmd: CommandApdu): Promise<Uint8Array> {
    if (!this.mgmtAuthenticated) throw new SwError(SW.SECURITY_STATUS);
    if (cmd.p1 !== 0xff || (cmd.p2 !== 0xff && cmd.p2 !== 0xfe)) throw new SwError(SW.WRONG_P1P2);
    const d = cmd.data;
    if (d.length < 3 || d[1] !== 0x9b) throw new SwError(SW.INCORRECT_DATA);
    const alg = d[0]!;
    const { keyLen } = mgmtCipher(alg);
    if (alg !== ALG.TDES && !versionAtLeast(this.s.version, 5, 4)) throw new SwError(SW.INCORRECT_DATA);
    if (d[2] !== keyLen || d.length !== 3 + keyLen) throw new SwError(SW.INCORRECT_DATA);
    this.s.mgmtKey = hex(d.subarray(3));
    this.s.mgmtAlgorithm = alg;
    this.s.mgmtIsDefault = false;
    this.s.mgmtTouch = cmd.p2 === 0xfe;
    await this.store.save();
    return response(new Uint8Array(0), SW.OK);
  }
}

function padDigest(d: Uint8Array, len: number): Uint8Array {
  if (d.length === len) return d;
  const out = new Uint8Array(len);
  out.set(d, len - d.length);
  return out;
}
