/**
 * A CTAP 2.1 authenticator (the subset age plugins use), written from the CTAP 2.1
 * specification: authenticatorGetInfo, authenticatorClientPIN (PIN/UV auth protocols 1 and 2:
 * getPINRetries, getKeyAgreement, setPIN, changePIN, getPinToken,
 * getPinUvAuthTokenUsingPinWithPermissions), authenticatorMakeCredential (ES256, EdDSA or RS256
 * — the first of pubKeyCredParams it supports —, non-resident, hmac-secret), authenticatorGetAssertion (allow list, up=false probes, hmac-secret with one or
 * two salts and separate CredRandom values with and without UV), authenticatorReset and
 * authenticatorSelection.
 *
 * Credentials are not stored: the credential id is the credential's algorithm, private key (for
 * RS256 a handle to it, see algorithms.ts) and CredRandoms sealed with the device secret (ChaCha20-Poly1305, the RP id hash as associated data), so an id
 * only opens on the authenticator that made it and for its RP.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { CborMap, decodeCbor, encodeCbor } from '../../transport/cbor.ts';
import { concatBytes as concat } from '@noble/hashes/utils.js';
import { AuthenticatorPinProtocol, CtapStatusError, ST } from './pinUvAuth.ts';
import { MAX_PIN_RETRIES, type Fido2StateStore } from './state.ts';
import { ALG_CODE, ALG_OF_CODE, ALGORITHMS, coseKey, hasKey, newCredentialSecret, signWith, type CoseAlgorithm, type RsaKeyStore } from './algorithms.ts';

/** How the virtual user answers a request for presence. */
export type TouchMode = 'approve' | 'deny' | { readonly timeoutMs: number } | { readonly approveAfterMs: number };

export interface RequestContext {
  /** Aborted when the host sends CTAPHID_CANCEL. */
  readonly signal: AbortSignal;
  /** Switches the KEEPALIVE status the transport sends while the request runs. */
  setWaitingForTouch(waiting: boolean): void;
}

export type AuthenticatorEvent =
  | { type: 'touch-requested'; command: string }
  | { type: 'touch'; result: 'approved' | 'denied' | 'timeout' | 'cancelled' }
  | { type: 'pin'; result: 'ok' | 'invalid' | 'blocked' | 'auth-blocked' }
  | { type: 'command'; name: string; status: number };

const CMD_NAMES: Record<number, string> = { 0x01: 'makeCredential', 0x02: 'getAssertion', 0x04: 'getInfo', 0x06: 'clientPIN', 0x07: 'reset', 0x0b: 'selection' };

const PERM_MC = 0x01;
const PERM_GA = 0x02;
const SUPPORTED_PERMISSIONS = PERM_MC | PERM_GA;
const MIN_PIN_LENGTH = 4;
/** A short pause before an automatic touch, so the host sees the "touch needed" keepalive. */
const AUTO_TOUCH_MS = 150;
/** Credential id layouts: 1 = ES256 only (no algorithm byte), 2 = with the algorithm byte. */
const CRED_V1 = 1;
const CRED_VERSION = 2;

interface PinToken {
  token: Uint8Array;
  protocol: 1 | 2;
  permissions: number;
  rpId?: string;
}

interface Credential {
  alg: CoseAlgorithm;
  /** The P-256 scalar, the Ed25519 seed, or the RS256 key handle (32 bytes). */
  privateKey: Uint8Array;
  credRandomNoUv: Uint8Array;
  credRandomUv: Uint8Array;
  hmacSecret: boolean;
}

export class VirtualAuthenticator extends EventEmitter {
  private readonly protocols: Record<1 | 2, AuthenticatorPinProtocol> = { 1: new AuthenticatorPinProtocol(1), 2: new AuthenticatorPinProtocol(2) };
  private token?: PinToken;
  private consecutiveMismatches = 0;
  private touch: TouchMode;

  private readonly algorithms: readonly CoseAlgorithm[];
  private readonly rsaKeys: RsaKeyStore;

  constructor(
    readonly store: Fido2StateStore,
    options: { touch?: TouchMode; algorithms?: readonly CoseAlgorithm[] } = {},
  ) {
    super();
    this.touch = options.touch ?? 'approve';
    this.algorithms = options.algorithms ?? ALGORITHMS;
    this.rsaKeys = {
      get: (h) => store.state.rsaKeys?.[h],
      set: (h, k) => void ((store.state.rsaKeys ??= {})[h] = k),
    };
  }

  setTouch(mode: TouchMode): void {
    this.touch = mode;
  }

  /** What a power cycle resets: key agreement keys, the PIN token, the mismatch counter. */
  powerCycle(): void {
    this.protocols[1].regenerate();
    this.protocols[2].regenerate();
    this.token = undefined;
    this.consecutiveMismatches = 0;
  }

  private get state() {
    return this.store.state;
  }

  /** One CTAPHID_CBOR message: `command ‖ CBOR` in, `status ‖ CBOR` out. */
  async handle(message: Uint8Array, ctx: RequestContext): Promise<Uint8Array> {
    const cmd = message[0];
    const name = cmd === undefined ? 'empty' : (CMD_NAMES[cmd] ?? `0x${cmd.toString(16)}`);
    let status: number = ST.OK;
    let body: unknown;
    try {
      let params: CborMap | undefined;
      if (message.length > 1) {
        let decoded: unknown;
        try {
          decoded = decodeCbor(message.subarray(1));
        } catch {
          throw new CtapStatusError(ST.INVALID_CBOR);
        }
        params = CborMap.from(decoded, 'request');
      }
      const p = params ?? new CborMap(new Map());
      switch (cmd) {
        case 0x04:
          body = this.getInfo();
          break;
        case 0x06:
          body = await this.clientPin(p);
          break;
        case 0x01:
          body = await this.makeCredential(p, ctx);
          break;
        case 0x02:
          body = await this.getAssertion(p, ctx);
          break;
        case 0x07:
          await this.userPresence(ctx, 'reset');
          this.state.pinHash = undefined;
          this.state.pinRetries = MAX_PIN_RETRIES;
          this.state.deviceSecret = Buffer.from(randomBytes(32)).toString('hex');
          this.powerCycle();
          await this.store.save();
          break;
        case 0x0b:
          await this.userPresence(ctx, 'selection');
          break;
        default:
          throw new CtapStatusError(ST.INVALID_COMMAND);
      }
    } catch (err) {
      if (err instanceof CtapStatusError) status = err.status;
      else if (err instanceof TypeError) status = ST.CBOR_UNEXPECTED_TYPE;
      else throw err;
      body = undefined;
    }
    this.emit('event', { type: 'command', name, status } satisfies AuthenticatorEvent);
    if (status !== ST.OK || body === undefined) return new Uint8Array([status]);
    return concat(new Uint8Array([ST.OK]), encodeCbor(body));
  }

  getInfo(): Map<number, unknown> {
    return new Map<number, unknown>([
      [0x01, ['FIDO_2_0', 'FIDO_2_1']],
      [0x02, ['hmac-secret']],
      [0x03, Buffer.from(this.state.aaguid, 'hex')],
      [
        0x04,
        new Map<string, boolean>([
          ['rk', false],
          ['up', true],
          ['plat', false],
          ['clientPin', this.state.pinHash !== undefined],
          ['pinUvAuthToken', true],
          ['makeCredUvNotRqd', true],
        ]),
      ],
      [0x05, 1200],
      [0x06, [2, 1]],
      [0x07, 8],
      [0x08, 128],
      [0x09, ['usb']],
      [0x0a, this.algorithms.map((alg) => new Map<string, unknown>([['alg', alg], ['type', 'public-key']]))],
      [0x0d, MIN_PIN_LENGTH],
      [0x0e, 0x010000],
    ]);
  }

  // --- clientPIN ---------------------------------------------------------------------------

  private protocol(p: CborMap, key: number): AuthenticatorPinProtocol {
    const v = p.int(key);
    if (v === undefined) throw new CtapStatusError(ST.MISSING_PARAMETER, 'pinUvAuthProtocol missing');
    if (v !== 1 && v !== 2) throw new CtapStatusError(ST.INVALID_PARAMETER, 'unsupported pinUvAuthProtocol');
    return this.protocols[v];
  }

  private async clientPin(p: CborMap): Promise<Map<number, unknown> | undefined> {
    const sub = p.int(0x02);
    if (sub === undefined) throw new CtapStatusError(ST.MISSING_PARAMETER);
    switch (sub) {
      case 0x01:
        return new Map<number, unknown>([[0x03, this.state.pinRetries], [0x04, false]]);
      case 0x02:
        return new Map<number, unknown>([[0x01, this.protocol(p, 0x01).getPublicKey()]]);
      case 0x03:
        return this.setPin(p);
      case 0x04:
        return this.changePin(p);
      case 0x05:
      case 0x09:
        return this.getPinToken(p, sub);
      default:
        throw new CtapStatusError(ST.INVALID_SUBCOMMAND);
    }
  }

  private need<T>(v: T | undefined): T {
    if (v === undefined) throw new CtapStatusError(ST.MISSING_PARAMETER);
    return v;
  }

  private decodeNewPin(proto: AuthenticatorPinProtocol, shared: Uint8Array, newPinEnc: Uint8Array): Uint8Array {
    const expected = proto.version === 1 ? 64 : 80;
    if (newPinEnc.length !== expected) throw new CtapStatusError(ST.INVALID_PARAMETER, 'newPinEnc has the wrong length');
    const padded = proto.decrypt(shared, newPinEnc);
    let end = padded.indexOf(0);
    if (end < 0) end = padded.length;
    if (padded.subarray(end).some((b) => b !== 0)) throw new CtapStatusError(ST.PIN_POLICY_VIOLATION);
    const pin = padded.subarray(0, end);
    const codePoints = [...new TextDecoder().decode(pin)].length;
    if (codePoints < MIN_PIN_LENGTH || pin.length > 63) throw new CtapStatusError(ST.PIN_POLICY_VIOLATION);
    return pin;
  }

  private async setPin(p: CborMap): Promise<undefined> {
    const proto = this.protocol(p, 0x01);
    const ka = this.need(p.raw(0x03));
    const auth = this.need(p.bytes(0x04));
    const newPinEnc = this.need(p.bytes(0x05));
    if (this.state.pinHash !== undefined) throw new CtapStatusError(ST.NOT_ALLOWED, 'a PIN is already set');
    const shared = proto.decapsulate(ka);
    if (!proto.verify(shared, newPinEnc, auth)) throw new CtapStatusError(ST.PIN_AUTH_INVALID);
    const pin = this.decodeNewPin(proto, shared, newPinEnc);
    this.state.pinHash = Buffer.from(sha256(pin).subarray(0, 16)).toString('hex');
    this.state.pinRetries = MAX_PIN_RETRIES;
    await this.store.save();
    return undefined;
  }

  /** Checks pinHashEnc against the stored PIN, with CTAP's retry rules. */
  private async checkPinHash(proto: AuthenticatorPinProtocol, shared: Uint8Array, pinHashEnc: Uint8Array): Promise<void> {
    if (this.state.pinHash === undefined) throw new CtapStatusError(ST.PIN_NOT_SET);
    if (this.state.pinRetries === 0) {
      this.emit('event', { type: 'pin', result: 'blocked' } satisfies AuthenticatorEvent);
      throw new CtapStatusError(ST.PIN_BLOCKED);
    }
    if (this.consecutiveMismatches >= 3) {
      this.emit('event', { type: 'pin', result: 'auth-blocked' } satisfies AuthenticatorEvent);
      throw new CtapStatusError(ST.PIN_AUTH_BLOCKED);
    }
    // The counter is decremented before the comparison (a power loss cannot give a free try).
    this.state.pinRetries--;
    await this.store.save();
    const given = proto.decrypt(shared, pinHashEnc);
    if (given.length !== 16 || Buffer.from(given).toString('hex') !== this.state.pinHash) {
      this.protocols[1].regenerate();
      this.protocols[2].regenerate();
      this.token = undefined;
      this.consecutiveMismatches++;
      this.emit('event', { type: 'pin', result: 'invalid' } satisfies AuthenticatorEvent);
      if (this.state.pinRetries === 0) throw new CtapStatusError(ST.PIN_BLOCKED);
      if (this.consecutiveMismatches >= 3) throw new CtapStatusError(ST.PIN_AUTH_BLOCKED);
      throw new CtapStatusError(ST.PIN_INVALID);
    }
    this.consecutiveMismatches = 0;
    this.state.pinRetries = MAX_PIN_RETRIES;
    await this.store.save();
    this.emit('event', { type: 'pin', result: 'ok' } satisfies AuthenticatorEvent);
  }

  private async changePin(p: CborMap): Promise<undefined> {
    const proto = this.protocol(p, 0x01);
    const ka = this.need(p.raw(0x03));
    const auth = this.need(p.bytes(0x04));
    const newPinEnc = this.need(p.bytes(0x05));
    const pinHashEnc = this.need(p.bytes(0x06));
    if (this.state.pinHash === undefined) throw new CtapStatusError(ST.PIN_NOT_SET);
    if (this.state.pinRetries === 0) throw new CtapStatusError(ST.PIN_BLOCKED);
    const shared = proto.decapsulate(ka);
    if (!proto.verify(shared, concat(newPinEnc, pinHashEnc), auth)) throw new CtapStatusError(ST.PIN_AUTH_INVALID);
    await this.checkPinHash(proto, shared, pinHashEnc);
    const pin = this.decodeNewPin(proto, shared, newPinEnc);
    this.state.pinHash = Buffer.from(sha256(pin).subarray(0, 16)).toString('hex');
    this.token = undefined;
    await this.store.save();
    return undefined;
  }

  private async getPinToken(p: CborMap, sub: number): Promise<Map<number, unknown>> {
    const proto = this.protocol(p, 0x01);
    const ka = this.need(p.raw(0x03));
    const pinHashEnc = this.need(p.bytes(0x06));
    let permissions = PERM_MC | PERM_GA;
    let rpId: string | undefined;
    if (sub === 0x05) {
      if (p.has(0x09) || p.has(0x0a)) throw new CtapStatusError(ST.INVALID_PARAMETER, 'getPinToken takes no permissions');
    } else {
      permissions = this.need(p.int(0x09));
      rpId = p.text(0x0a);
      if (permissions === 0) throw new CtapStatusError(ST.INVALID_PARAMETER, 'no permissions asked');
      if (permissions & ~SUPPORTED_PERMISSIONS) throw new CtapStatusError(ST.UNAUTHORIZED_PERMISSION);
    }
    const shared = proto.decapsulate(ka);
    await this.checkPinHash(proto, shared, pinHashEnc);
    const token = new Uint8Array(randomBytes(32));
    this.token = { token, protocol: proto.version, permissions, ...(rpId !== undefined ? { rpId } : {}) };
    return new Map<number, unknown>([[0x02, proto.encrypt(shared, token)]]);
  }

  /** Validates pinUvAuthParam over the client data hash for a permission and RP (→ UV). */
  private checkPinUvAuth(p: CborMap, paramKey: number, protocolKey: number, cdh: Uint8Array, permission: number, rpId: string): void {
    const param = p.bytes(paramKey)!;
    const proto = this.protocol(p, protocolKey);
    const t = this.token;
    if (!t || t.protocol !== proto.version || !proto.verify(t.token, cdh, param)) throw new CtapStatusError(ST.PIN_AUTH_INVALID);
    if (!(t.permissions & permission)) throw new CtapStatusError(ST.PIN_AUTH_INVALID, 'token lacks the permission');
    if (t.rpId !== undefined && t.rpId !== rpId) throw new CtapStatusError(ST.PIN_AUTH_INVALID, 'token is bound to another RP');
    t.rpId = rpId;
  }

  // --- user presence -------------------------------------------------------------------------

  private userPresence(ctx: RequestContext, command: string): Promise<void> {
    this.emit('event', { type: 'touch-requested', command } satisfies AuthenticatorEvent);
    const mode = this.touch;
    const [delay, outcome]: [number, 'approved' | 'denied' | 'timeout'] =
      mode === 'approve' ? [AUTO_TOUCH_MS, 'approved'] : mode === 'deny' ? [AUTO_TOUCH_MS, 'denied'] : 'timeoutMs' in mode ? [mode.timeoutMs, 'timeout'] : [mode.approveAfterMs, 'approved'];
    ctx.setWaitingForTouch(true);
    return new Promise<void>((resolve, reject) => {
      const finish = (result: 'approved' | 'denied' | 'timeout' | 'cancelled') => {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onAbort);
        ctx.setWaitingForTouch(false);
        this.emit('event', { type: 'touch', result } satisfies AuthenticatorEvent);
        if (result === 'approved') resolve();
        else reject(new CtapStatusError(result === 'denied' ? ST.OPERATION_DENIED : result === 'timeout' ? ST.USER_ACTION_TIMEOUT : ST.KEEPALIVE_CANCEL));
      };
      const onAbort = () => finish('cancelled');
      const timer = setTimeout(() => finish(outcome), delay);
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  // --- credentials ---------------------------------------------------------------------------

  private wrapKey(): Uint8Array {
    return hkdf(sha256, Buffer.from(this.state.deviceSecret, 'hex'), new Uint8Array(0), new TextEncoder().encode('keybridge virtual authenticator credential id'), 32);
  }

  private sealCredential(c: Credential, rpIdHash: Uint8Array): Uint8Array {
    const nonce = new Uint8Array(randomBytes(12));
    const plain = concat(new Uint8Array([ALG_CODE[c.alg]]), c.privateKey, c.credRandomNoUv, c.credRandomUv, new Uint8Array([c.hmacSecret ? 1 : 0]));
    return concat(new Uint8Array([CRED_VERSION]), nonce, chacha20poly1305(this.wrapKey(), nonce, rpIdHash).encrypt(plain));
  }

  private openCredential(id: Uint8Array, rpIdHash: Uint8Array): Credential | undefined {
    const v1 = id[0] === CRED_V1;
    if (id.length !== 1 + 12 + (v1 ? 97 : 98) + 16 || (!v1 && id[0] !== CRED_VERSION)) return undefined;
    let plain: Uint8Array;
    try {
      plain = chacha20poly1305(this.wrapKey(), id.subarray(1, 13), rpIdHash).decrypt(id.subarray(13));
    } catch {
      return undefined;
    }
    const alg = v1 ? ALGORITHMS[0] : ALG_OF_CODE.get(plain[0]!);
    if (!v1) plain = plain.subarray(1);
    if (alg === undefined || !hasKey(alg, plain.subarray(0, 32), this.rsaKeys)) return undefined;
    return { alg, privateKey: plain.slice(0, 32), credRandomNoUv: plain.slice(32, 64), credRandomUv: plain.slice(64, 96), hmacSecret: plain[96] === 1 };
  }

  private async nextSignCount(): Promise<Uint8Array> {
    this.state.signCount++;
    await this.store.save();
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, this.state.signCount >>> 0);
    return b;
  }

  private static rp(p: CborMap): string {
    const rp = p.sub(0x02);
    if (!rp) throw new CtapStatusError(ST.MISSING_PARAMETER, 'rp missing');
    const id = rp.text('id');
    if (id === undefined) throw new CtapStatusError(ST.MISSING_PARAMETER, 'rp.id missing');
    return id;
  }

  private static options(p: CborMap, key: number): CborMap {
    return p.sub(key) ?? new CborMap(new Map());
  }

  private async makeCredential(p: CborMap, ctx: RequestContext): Promise<Map<number, unknown>> {
    const cdh = this.need(p.bytes(0x01));
    const rpId = VirtualAuthenticator.rp(p);
    const user = p.sub(0x03);
    if (!user) throw new CtapStatusError(ST.MISSING_PARAMETER, 'user missing');
    if (!(user.raw('id') instanceof Uint8Array)) throw new CtapStatusError(ST.MISSING_PARAMETER, 'user.id missing');
    const params = this.need(p.array(0x04));
    // The first entry (the RP's order of preference) of an algorithm this authenticator supports.
    const alg = params
      .map((x) => (x instanceof Map && x.get('type') === 'public-key' ? x.get('alg') : undefined))
      .find((a): a is CoseAlgorithm => this.algorithms.includes(a as CoseAlgorithm));
    const opts = VirtualAuthenticator.options(p, 0x07);
    const ext = p.sub(0x06);
    const rpIdHash = sha256(new TextEncoder().encode(rpId));

    const param = p.bytes(0x08);
    if (param !== undefined && param.length === 0) {
      await this.userPresence(ctx, 'makeCredential');
      throw new CtapStatusError(this.state.pinHash === undefined ? ST.PIN_NOT_SET : ST.PIN_INVALID);
    }
    if (alg === undefined) throw new CtapStatusError(ST.UNSUPPORTED_ALGORITHM);
    if (opts.bool('rk') === true) throw new CtapStatusError(ST.UNSUPPORTED_OPTION, 'no resident keys');
    if (opts.bool('uv') === true) throw new CtapStatusError(ST.INVALID_OPTION, 'no built-in user verification');
    if (opts.has('up')) throw new CtapStatusError(ST.INVALID_OPTION, 'up is not an option of makeCredential');
    let uv = false;
    if (param !== undefined) {
      this.checkPinUvAuth(p, 0x08, 0x09, cdh, PERM_MC, rpId);
      uv = true;
    }
    const exclude = p.array(0x05) ?? [];
    for (const e of exclude) {
      const id = e instanceof Map ? e.get('id') : undefined;
      if (id instanceof Uint8Array && this.openCredential(id, rpIdHash)) {
        await this.userPresence(ctx, 'makeCredential');
        throw new CtapStatusError(ST.CREDENTIAL_EXCLUDED);
      }
    }
    await this.userPresence(ctx, 'makeCredential');
    if (uv && this.token) this.token.permissions &= ~PERM_MC; // CTAP 2.1: mc is cleared after use
    const hmacSecret = ext?.raw('hmac-secret') === true;
    const cred: Credential = {
      alg,
      privateKey: newCredentialSecret(alg, this.rsaKeys),
      credRandomNoUv: new Uint8Array(randomBytes(32)),
      credRandomUv: new Uint8Array(randomBytes(32)),
      hmacSecret,
    };
    const credId = this.sealCredential(cred, rpIdHash);
    const cose = encodeCbor(coseKey(alg, cred.privateKey, this.rsaKeys));
    const idLen = new Uint8Array([credId.length >> 8, credId.length & 0xff]);
    const flags = 0x01 | (uv ? 0x04 : 0) | 0x40 | (hmacSecret ? 0x80 : 0);
    const extBytes = hmacSecret ? encodeCbor(new Map([['hmac-secret', true]])) : new Uint8Array(0);
    const authData = concat(rpIdHash, new Uint8Array([flags]), await this.nextSignCount(), Buffer.from(this.state.aaguid, 'hex'), idLen, credId, cose, extBytes);
    // Self attestation ("packed" without x5c): signed with the credential key itself.
    const sig = signWith(alg, cred.privateKey, this.rsaKeys, concat(authData, cdh));
    return new Map<number, unknown>([
      [0x01, 'packed'],
      [0x02, authData],
      [0x03, new Map<string, unknown>([['alg', alg], ['sig', sig]])],
    ]);
  }

  private async getAssertion(p: CborMap, ctx: RequestContext): Promise<Map<number, unknown>> {
    const rpId = this.need(p.text(0x01));
    const cdh = this.need(p.bytes(0x02));
    const rpIdHash = sha256(new TextEncoder().encode(rpId));
    const opts = VirtualAuthenticator.options(p, 0x05);
    const ext = p.sub(0x04);
    const param = p.bytes(0x06);
    if (param !== undefined && param.length === 0) {
      await this.userPresence(ctx, 'getAssertion');
      throw new CtapStatusError(this.state.pinHash === undefined ? ST.PIN_NOT_SET : ST.PIN_AUTH_INVALID);
    }
    if (opts.has('rk')) throw new CtapStatusError(ST.UNSUPPORTED_OPTION);
    if (opts.bool('uv') === true) throw new CtapStatusError(ST.INVALID_OPTION, 'no built-in user verification');
    const up = opts.bool('up') ?? true;
    let uv = false;
    if (param !== undefined) {
      this.checkPinUvAuth(p, 0x06, 0x07, cdh, PERM_GA, rpId);
      uv = true;
    }
    const allow = p.array(0x03) ?? [];
    if (allow.length > 8) throw new CtapStatusError(ST.LIMIT_EXCEEDED);
    let found: { id: Uint8Array; cred: Credential } | undefined;
    for (const a of allow) {
      const id = a instanceof Map ? a.get('id') : undefined;
      if (!(id instanceof Uint8Array)) throw new CtapStatusError(ST.INVALID_PARAMETER, 'allowList entry without id');
      const cred = this.openCredential(id, rpIdHash);
      if (cred) {
        found = { id, cred };
        break;
      }
    }
    if (!found) throw new CtapStatusError(ST.NO_CREDENTIALS);
    const hmacIn = ext?.sub('hmac-secret');
    if (hmacIn && !up) throw new CtapStatusError(ST.INVALID_OPTION, 'hmac-secret needs user presence');
    if (up) await this.userPresence(ctx, 'getAssertion');

    let extOut: Uint8Array = new Uint8Array(0);
    if (hmacIn && found.cred.hmacSecret) {
      const protoNum = hmacIn.int(4) ?? 1;
      if (protoNum !== 1 && protoNum !== 2) throw new CtapStatusError(ST.INVALID_PARAMETER);
      const proto = this.protocols[protoNum];
      const shared = proto.decapsulate(this.need(hmacIn.raw(1)));
      const saltEnc = this.need(hmacIn.bytes(2));
      const saltAuth = this.need(hmacIn.bytes(3));
      if (!proto.verify(shared, saltEnc, saltAuth)) throw new CtapStatusError(ST.PIN_AUTH_INVALID, 'saltAuth does not verify');
      const salts = proto.decrypt(shared, saltEnc);
      if (salts.length !== 32 && salts.length !== 64) throw new CtapStatusError(ST.INVALID_LENGTH, 'salts must be 32 or 64 bytes');
      const credRandom = uv ? found.cred.credRandomUv : found.cred.credRandomNoUv;
      const out = concat(...(salts.length === 64 ? [salts.subarray(0, 32), salts.subarray(32)] : [salts]).map((s) => hmac(sha256, credRandom, s)));
      extOut = encodeCbor(new Map([['hmac-secret', proto.encrypt(shared, out)]]));
    }
    const flags = (up ? 0x01 : 0) | (uv ? 0x04 : 0) | (extOut.length ? 0x80 : 0);
    const authData = concat(rpIdHash, new Uint8Array([flags]), await this.nextSignCount(), extOut);
    const sig = signWith(found.cred.alg, found.cred.privateKey, this.rsaKeys, concat(authData, cdh));
    return new Map<number, unknown>([
      [0x01, new Map<string, unknown>([['id', found.id], ['type', 'public-key']])],
      [0x02, authData],
      [0x03, sig],
    ]);
  }
}
