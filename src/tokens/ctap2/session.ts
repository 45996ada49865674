/**
 * One CTAP2 authenticator session over CTAPHID (the shape of python-fido2's `Ctap2` +
 * `ClientPin`): one method per command, typed requests and answers, typed errors.
 *
 * - getInfo, read when the session opens;
 * - clientPIN with PIN/UV auth protocol 2 or 1 (the best both sides support): retries, set and
 *   change, and a PIN/UV auth token — with permissions and an RP id
 *   (getPinUvAuthTokenUsingPinWithPermissions) when the key supports CTAP 2.1 tokens, the legacy
 *   getPinToken otherwise;
 * - makeCredential (ES256, EdDSA or RS256; non-resident unless asked, hmac-secret);
 * - getAssertion with hmac-secret and one or two 32-byte salts;
 * - probe: the silent assertion (up=false, no extension) that tells whether this key holds one
 *   of the given credentials without asking for a touch.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes } from '@noble/hashes/utils.js';
import { CborMap, decodeCbor, encodeCbor } from '../../transport/cbor.ts';
import type { CallOptions, CtapHidDevice } from '../../transport/ctaphid.ts';
import { parseAuthData, type AuthData } from './authData.ts';
import { Ctap2Error, ctapStatusError, fromTransport } from './errors.ts';
import { PinProtocol, type PinProtocolVersion } from './pinProtocol.ts';

export const CMD = { MAKE_CREDENTIAL: 0x01, GET_ASSERTION: 0x02, GET_INFO: 0x04, CLIENT_PIN: 0x06, RESET: 0x07, SELECTION: 0x0b } as const;
export { PERMISSION } from './status.ts';
export const COSE_ES256 = -7;
export const COSE_EDDSA = -8;
export const COSE_RS256 = -257;
/** The credential algorithms by the names age-plugin-fido2-hmac's `-a` takes. */
export const COSE_ALGORITHMS = { es256: COSE_ES256, eddsa: COSE_EDDSA, rs256: COSE_RS256 } as const;

export interface Ctap2Info {
  readonly versions: readonly string[];
  readonly extensions: readonly string[];
  readonly aaguid: Uint8Array;
  readonly options: Readonly<Record<string, boolean>>;
  readonly maxMsgSize?: number;
  readonly pinUvAuthProtocols: readonly number[];
  readonly maxCredentialIdLength?: number;
  readonly minPinLength: number;
  readonly firmwareVersion?: number;
}

export interface PinToken {
  readonly protocol: PinProtocolVersion;
  readonly token: Uint8Array;
}

/** How a long-running command (one that may wait for a touch) is driven. */
export interface TouchOptions {
  /** Called once when the key starts waiting for a touch. */
  readonly onTouch?: () => void;
  /** Aborting cancels the request on the key (CTAPHID_CANCEL). */
  readonly signal?: AbortSignal;
}

export interface MakeCredentialRequest extends TouchOptions {
  readonly rpId: string;
  readonly rpName?: string;
  readonly userId: Uint8Array;
  readonly userName?: string;
  readonly userDisplayName?: string;
  /** Defaults to 32 random bytes (no attestation is checked). */
  readonly clientDataHash?: Uint8Array;
  readonly hmacSecret?: boolean;
  readonly residentKey?: boolean;
  readonly pinToken?: PinToken;
  readonly excludeList?: readonly Uint8Array[];
  /** The COSE algorithm of the credential key (default ES256). */
  readonly alg?: number;
}

export interface MakeCredentialResult {
  readonly credentialId: Uint8Array;
  readonly publicKey: Map<number, unknown>;
  readonly authData: AuthData;
  readonly format: string;
  readonly hmacSecret: boolean;
}

export interface GetAssertionRequest extends TouchOptions {
  readonly rpId: string;
  readonly allowList: readonly Uint8Array[];
  readonly clientDataHash?: Uint8Array;
  /** One or two 32-byte salts for hmac-secret. */
  readonly hmacSalts?: readonly Uint8Array[];
  readonly pinToken?: PinToken;
  /** Default true; false is a silent assertion (no touch, no extension outputs). */
  readonly userPresence?: boolean;
}

export interface AssertionResult {
  readonly credentialId: Uint8Array;
  readonly authData: AuthData;
  readonly signature: Uint8Array;
  /** hmac-secret outputs, one per salt. */
  readonly hmacOutputs?: readonly Uint8Array[];
}

/**
 * A command's answer map: a value of the wrong type (a hostile or broken key) fails as a
 * Ctap2Error ('DEVICE') naming the command, never as a TypeError.
 */
class CtapAnswer extends CborMap {
  constructor(
    map: Map<unknown, unknown>,
    private readonly what: string,
  ) {
    super(map);
  }

  private read<T>(get: () => T): T {
    try {
      return get();
    } catch (err) {
      if (err instanceof TypeError) throw new Ctap2Error('DEVICE', `${this.what}: the security key sent a malformed answer (${err.message})`, { cause: err });
      throw err;
    }
  }

  override bytes(key: number | string) {
    return this.read(() => super.bytes(key));
  }
  override int(key: number | string) {
    return this.read(() => super.int(key));
  }
  override text(key: number | string) {
    return this.read(() => super.text(key));
  }
  override bool(key: number | string) {
    return this.read(() => super.bool(key));
  }
  override array(key: number | string) {
    return this.read(() => super.array(key));
  }
  override sub(key: number | string): CborMap | undefined {
    return this.read(() => {
      const m = super.sub(key);
      return m && new CtapAnswer(m.map, this.what);
    });
  }
}

const TOUCH_TOTAL_MS = 90_000;
const MAX_ALLOW_LIST = 64;

export class Ctap2Session {
  private constructor(
    readonly device: CtapHidDevice,
    private infoValue: Ctap2Info,
    private readonly preferredProtocol?: PinProtocolVersion,
  ) {}

  /** Reads getInfo; `pinProtocol` forces PIN/UV auth protocol 1 or 2 when the key has it. */
  static async open(device: CtapHidDevice, options: { pinProtocol?: PinProtocolVersion } = {}): Promise<Ctap2Session> {
    if (!device.supportsCbor) throw new Ctap2Error('UNSUPPORTED', `${device.info.product ?? device.info.path} is a U2F-only key (no CTAP2)`);
    const s = new Ctap2Session(device, { versions: [], extensions: [], aaguid: new Uint8Array(16), options: {}, pinUvAuthProtocols: [], minPinLength: 4 }, options.pinProtocol);
    await s.getInfo();
    return s;
  }

  get info(): Ctap2Info {
    return this.infoValue;
  }

  get pinSet(): boolean {
    return this.infoValue.options.clientPin === true;
  }

  get supportsHmacSecret(): boolean {
    return this.infoValue.extensions.includes('hmac-secret');
  }

  /** PIN/UV auth protocol 2 when both sides have it, else 1. */
  get pinProtocol(): PinProtocol {
    const p = this.infoValue.pinUvAuthProtocols;
    if (this.preferredProtocol && p.includes(this.preferredProtocol)) return new PinProtocol(this.preferredProtocol);
    if (p.includes(2)) return new PinProtocol(2);
    if (p.includes(1) || p.length === 0) return new PinProtocol(1);
    throw new Ctap2Error('UNSUPPORTED', 'the security key supports no PIN/UV auth protocol this program knows');
  }

  private async command(cmd: number, params: Map<number, unknown> | undefined, what: string, opts: CallOptions = {}): Promise<CborMap> {
    let r: Uint8Array;
    try {
      r = await this.device.cbor(cmd, params ? encodeCbor(params) : new Uint8Array(0), opts);
    } catch (err) {
      throw fromTransport(err, what);
    }
    if (r.length === 0) throw new Ctap2Error('DEVICE', `${what}: empty answer from the security key`);
    if (r[0] !== 0) throw ctapStatusError(r[0]!, what);
    if (r.length === 1) return new CtapAnswer(new Map(), what);
    try {
      return new CtapAnswer(CborMap.from(decodeCbor(r.subarray(1)), 'answer').map, what);
    } catch (err) {
      throw new Ctap2Error('DEVICE', `${what}: the security key sent malformed CBOR`, { cause: err });
    }
  }

  private static touchCall(o: TouchOptions): CallOptions {
    return { ...(o.onTouch ? { onUserPresenceNeeded: o.onTouch } : {}), ...(o.signal ? { signal: o.signal } : {}), totalTimeoutMs: TOUCH_TOTAL_MS };
  }

  async getInfo(): Promise<Ctap2Info> {
    const m = await this.command(CMD.GET_INFO, undefined, 'getInfo');
    try {
      const strings = (v: unknown[] | undefined) => (v ?? []).filter((x): x is string => typeof x === 'string');
      const options: Record<string, boolean> = {};
      for (const [k, v] of m.sub(0x04)?.map ?? []) if (typeof k === 'string' && typeof v === 'boolean') options[k] = v;
      this.infoValue = {
        versions: strings(m.array(0x01)),
        extensions: strings(m.array(0x02)),
        aaguid: m.bytes(0x03) ?? new Uint8Array(16),
        options,
        ...(m.int(0x05) !== undefined ? { maxMsgSize: m.int(0x05)! } : {}),
        pinUvAuthProtocols: (m.array(0x06) ?? []).filter((x): x is number => typeof x === 'number'),
        ...(m.int(0x08) !== undefined ? { maxCredentialIdLength: m.int(0x08)! } : {}),
        minPinLength: m.int(0x0d) ?? 4,
        ...(m.int(0x0e) !== undefined ? { firmwareVersion: m.int(0x0e)! } : {}),
      };
    } catch (err) {
      throw new Ctap2Error('DEVICE', 'getInfo: the security key sent malformed information', { cause: err });
    }
    return this.infoValue;
  }

  // --- clientPIN -----------------------------------------------------------------------------

  private async keyAgreement(protocol: PinProtocol) {
    const m = await this.command(CMD.CLIENT_PIN, new Map<number, unknown>([[1, protocol.version], [2, 0x02]]), 'key agreement');
    return protocol.encapsulate(m.raw(0x01));
  }

  async getPinRetries(): Promise<{ retries: number; powerCycleState?: boolean }> {
    const m = await this.command(CMD.CLIENT_PIN, new Map<number, unknown>([[1, this.pinProtocol.version], [2, 0x01]]), 'reading the PIN retry counter');
    const retries = m.int(0x03);
    if (retries === undefined || retries < 0 || retries > 255) throw new Ctap2Error('DEVICE', 'the security key sent no PIN retry count');
    const pcs = m.bool(0x04);
    return { retries, ...(pcs !== undefined ? { powerCycleState: pcs } : {}) };
  }

  private checkNewPin(pin: string): Uint8Array {
    const bytes = new TextEncoder().encode(pin.normalize('NFC'));
    if ([...pin].length < this.infoValue.minPinLength) throw new Ctap2Error('PIN_POLICY', `the PIN must have at least ${this.infoValue.minPinLength} characters`);
    if (bytes.length > 63) throw new Ctap2Error('PIN_POLICY', 'the PIN must be at most 63 bytes long');
    const padded = new Uint8Array(64);
    padded.set(bytes);
    return padded;
  }

  async setPin(pin: string): Promise<void> {
    const padded = this.checkNewPin(pin);
    const protocol = this.pinProtocol;
    const { keyAgreement, sharedSecret } = await this.keyAgreement(protocol);
    const newPinEnc = protocol.encrypt(sharedSecret, padded);
    await this.command(
      CMD.CLIENT_PIN,
      new Map<number, unknown>([
        [1, protocol.version],
        [2, 0x03],
        [3, keyAgreement],
        [4, protocol.authenticate(sharedSecret, newPinEnc)],
        [5, newPinEnc],
      ]),
      'setting the PIN',
    );
    await this.getInfo();
  }

  async changePin(oldPin: string, newPin: string): Promise<void> {
    const padded = this.checkNewPin(newPin);
    const protocol = this.pinProtocol;
    const { keyAgreement, sharedSecret } = await this.keyAgreement(protocol);
    const pinHashEnc = protocol.encrypt(sharedSecret, pinHash(oldPin));
    const newPinEnc = protocol.encrypt(sharedSecret, padded);
    await this.withRetries(() =>
      this.command(
        CMD.CLIENT_PIN,
        new Map<number, unknown>([
          [1, protocol.version],
          [2, 0x04],
          [3, keyAgreement],
          [4, protocol.authenticate(sharedSecret, concatBytes(newPinEnc, pinHashEnc))],
          [5, newPinEnc],
          [6, pinHashEnc],
        ]),
        'changing the PIN',
      ),
    );
  }

  /**
   * A PIN/UV auth token for `permissions` (and `rpId`, which CTAP 2.1 binds the token to). A
   * wrong PIN is `PIN_INVALID` with `retriesLeft` read from the key.
   */
  async getPinToken(pin: string, permissions: number, rpId?: string): Promise<PinToken> {
    const protocol = this.pinProtocol;
    const { keyAgreement, sharedSecret } = await this.keyAgreement(protocol);
    const pinHashEnc = protocol.encrypt(sharedSecret, pinHash(pin));
    const withPermissions = this.infoValue.options.pinUvAuthToken === true;
    const params = new Map<number, unknown>([
      [1, protocol.version],
      [2, withPermissions ? 0x09 : 0x05],
      [3, keyAgreement],
      [6, pinHashEnc],
    ]);
    if (withPermissions) {
      params.set(9, permissions);
      if (rpId !== undefined) params.set(0x0a, rpId);
    }
    const m = await this.withRetries(() => this.command(CMD.CLIENT_PIN, params, 'checking the PIN'));
    const enc = m.bytes(0x02);
    if (!enc) throw new Ctap2Error('DEVICE', 'the security key sent no PIN token');
    const token = protocol.decrypt(sharedSecret, enc);
    if (protocol.version === 1 ? token.length !== 16 && token.length !== 32 : token.length !== 32) throw new Ctap2Error('DEVICE', 'the security key sent a PIN token of a wrong length');
    return { protocol: protocol.version, token };
  }

  private async withRetries<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof Ctap2Error && err.kind === 'PIN_INVALID') {
        const { retries } = await this.getPinRetries();
        throw new Ctap2Error('PIN_INVALID', `wrong PIN (${retries} ${retries === 1 ? 'try' : 'tries'} left)`, { status: err.status!, retriesLeft: retries });
      }
      throw err;
    }
  }

  private pinAuth(params: Map<number, unknown>, paramKey: number, cdh: Uint8Array, token: PinToken | undefined): void {
    if (!token) return;
    const protocol = new PinProtocol(token.protocol);
    params.set(paramKey, protocol.authenticate(token.token, cdh));
    params.set(paramKey + 1, token.protocol);
  }

  // --- credentials ---------------------------------------------------------------------------

  async makeCredential(req: MakeCredentialRequest): Promise<MakeCredentialResult> {
    const cdh = req.clientDataHash ?? randomBytes(32);
    const user = new Map<string, unknown>([['id', req.userId]]);
    if (req.userName !== undefined) user.set('name', req.userName);
    if (req.userDisplayName !== undefined) user.set('displayName', req.userDisplayName);
    const rp = new Map<string, unknown>([['id', req.rpId]]);
    if (req.rpName !== undefined) rp.set('name', req.rpName);
    const params = new Map<number, unknown>([
      [1, cdh],
      [2, rp],
      [3, user],
      [4, [new Map<string, unknown>([['alg', req.alg ?? COSE_ES256], ['type', 'public-key']])]],
    ]);
    if (req.excludeList?.length) params.set(5, req.excludeList.map((id) => new Map<string, unknown>([['id', id], ['type', 'public-key']])));
    if (req.hmacSecret) params.set(6, new Map([['hmac-secret', true]]));
    if (req.residentKey) params.set(7, new Map([['rk', true]]));
    this.pinAuth(params, 8, cdh, req.pinToken);
    const m = await this.command(CMD.MAKE_CREDENTIAL, params, 'creating the credential', Ctap2Session.touchCall(req));
    const raw = m.bytes(0x02);
    if (!raw) throw new Ctap2Error('DEVICE', 'the security key sent no authenticator data');
    const authData = parseAuthData(raw);
    if (!authData.attested) throw new Ctap2Error('DEVICE', 'the security key sent no credential');
    if (!equal(authData.rpIdHash, sha256(new TextEncoder().encode(req.rpId)))) throw new Ctap2Error('DEVICE', 'the security key answered for another relying party');
    if (authData.attested.publicKey.get(3) !== (req.alg ?? COSE_ES256)) throw new Ctap2Error('DEVICE', 'the security key made a credential of another algorithm than asked');
    return {
      credentialId: authData.attested.credentialId,
      publicKey: authData.attested.publicKey,
      authData,
      format: m.text(0x01) ?? '',
      hmacSecret: authData.extensions?.get('hmac-secret') === true,
    };
  }

  async getAssertion(req: GetAssertionRequest): Promise<AssertionResult> {
    if (req.allowList.length === 0 || req.allowList.length > MAX_ALLOW_LIST) throw new RangeError(`allow list of ${req.allowList.length} credentials`);
    const cdh = req.clientDataHash ?? randomBytes(32);
    const params = new Map<number, unknown>([
      [1, req.rpId],
      [2, cdh],
      [3, req.allowList.map((id) => new Map<string, unknown>([['id', id], ['type', 'public-key']]))],
    ]);
    let hmac: { protocol: PinProtocol; sharedSecret: Uint8Array } | undefined;
    const salts = req.hmacSalts;
    if (salts) {
      if ((salts.length !== 1 && salts.length !== 2) || salts.some((s) => s.length !== 32)) throw new RangeError('hmac-secret needs one or two 32-byte salts');
      const protocol = req.pinToken ? new PinProtocol(req.pinToken.protocol) : this.pinProtocol;
      const { keyAgreement, sharedSecret } = await this.keyAgreement(protocol);
      const saltEnc = protocol.encrypt(sharedSecret, concatBytes(...salts));
      const input = new Map<number, unknown>([
        [1, keyAgreement],
        [2, saltEnc],
        [3, protocol.authenticate(sharedSecret, saltEnc)],
      ]);
      if (protocol.version !== 1) input.set(4, protocol.version);
      params.set(4, new Map([['hmac-secret', input]]));
      hmac = { protocol, sharedSecret };
    }
    if (req.userPresence === false) params.set(5, new Map([['up', false]]));
    this.pinAuth(params, 6, cdh, req.pinToken);
    const m = await this.command(CMD.GET_ASSERTION, params, req.userPresence === false ? 'looking for the credential' : 'getting the assertion', Ctap2Session.touchCall(req));
    const raw = m.bytes(0x02);
    const signature = m.bytes(0x03);
    if (!raw || !signature) throw new Ctap2Error('DEVICE', 'the security key sent an incomplete assertion');
    const authData = parseAuthData(raw);
    const cred = m.sub(0x01)?.bytes('id') ?? (req.allowList.length === 1 ? req.allowList[0]! : undefined);
    if (!cred) throw new Ctap2Error('DEVICE', 'the security key did not say which credential it used');
    // With an allow list the key must use one of its credentials (CTAP 2.1 §6.2.2).
    if (!req.allowList.some((id) => equal(id, cred))) throw new Ctap2Error('DEVICE', 'the security key answered with a credential that was not asked for');
    let hmacOutputs: Uint8Array[] | undefined;
    if (hmac && salts) {
      const enc = authData.extensions?.get('hmac-secret');
      if (!(enc instanceof Uint8Array)) throw new Ctap2Error('UNSUPPORTED', 'the security key returned no hmac-secret output (was the credential made with hmac-secret?)');
      const out = hmac.protocol.decrypt(hmac.sharedSecret, enc);
      if (out.length !== 32 * salts.length) throw new Ctap2Error('DEVICE', `the security key returned ${out.length} bytes of hmac-secret output for ${salts.length} salt(s)`);
      hmacOutputs = salts.map((_, i) => out.slice(32 * i, 32 * i + 32));
    }
    return { credentialId: cred, authData, signature, ...(hmacOutputs ? { hmacOutputs } : {}) };
  }

  /**
   * Which of `credentialIds` this key holds for `rpId`, without a touch (up=false, no PIN, no
   * extension); null when it holds none of them.
   */
  async probe(rpId: string, credentialIds: readonly Uint8Array[]): Promise<Uint8Array | null> {
    try {
      const r = await this.getAssertion({ rpId, allowList: credentialIds, clientDataHash: new Uint8Array(32), userPresence: false });
      return r.credentialId;
    } catch (err) {
      if (err instanceof Ctap2Error && err.kind === 'NO_CREDENTIALS') return null;
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.device.close();
  }
}

/** LEFT(SHA-256(PIN), 16), the form in which CTAP carries a PIN. */
function pinHash(pin: string): Uint8Array {
  return sha256(new TextEncoder().encode(pin.normalize('NFC'))).slice(0, 16);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
