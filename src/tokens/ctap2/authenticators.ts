/**
 * The FIDO2 authenticators plugged in, as sessions: opened once, probed silently (up=false) to
 * find the one that holds a credential — so only that key is ever asked for a touch — and used
 * for hmac-secret assertions with a PIN when the credential needs one. A key that cannot be opened
 * (no permission, not CTAP2, no hmac-secret) is remembered with the reason, so "no key holds this
 * credential" can say why.
 */
import type { HidConnection, HidDeviceInfo } from '../../transport/hid/connection.ts';
import type { Fido2DeviceSource } from '../../transport/fido2Devices.ts';
import { Ctap2Error } from './errors.ts';
import type { Ctap2Session, PinToken } from './session.ts';
import { PERMISSION } from './status.ts';

export interface Authenticator {
  readonly info: HidDeviceInfo;
  /** For messages: product name and where it is. */
  readonly name: string;
  readonly session: Ctap2Session;
  /** PIN tokens obtained in this process, by permissions and RP id (CTAP 2.1 binds them to it). */
  readonly tokens: Map<string, PinToken>;
}

export class AuthenticatorSet {
  private opened = new Map<string, Authenticator>();
  /** Devices that could not be used, with the reason. */
  readonly problems = new Map<string, string>();

  constructor(
    private readonly source: Fido2DeviceSource,
    private readonly options: { onlyPath?: string; requireHmacSecret?: boolean } = {},
  ) {}

  /** (Re-)enumerates and opens what is new; keys that went away are dropped. */
  async list(): Promise<Authenticator[]> {
    const infos = (await this.source.list()).filter((d) => !this.options.onlyPath || d.path === this.options.onlyPath);
    const present = new Set(infos.map((d) => d.path));
    for (const [path, a] of this.opened) {
      if (!present.has(path)) {
        this.opened.delete(path);
        await a.session.close().catch(() => undefined);
      }
    }
    for (const info of infos) {
      if (this.opened.has(info.path)) continue;
      let connection: HidConnection;
      try {
        connection = await info.open();
      } catch (err) {
        this.problems.set(info.path, (err as Error).message);
        continue;
      }
      try {
        // The CTAPHID and CTAP2 session code (CBOR, the PIN protocol) is loaded once a connection
        // to a key is open: a run that finds none, or needs none (wrapping to a recipient), does
        // without it.
        const [{ CtapHidDevice }, { Ctap2Session }] = await Promise.all([import('../../transport/ctaphid.ts'), import('./session.ts')]);
        const device = await CtapHidDevice.attach(info, connection);
        const session = await Ctap2Session.open(device);
        if (this.options.requireHmacSecret !== false && !session.supportsHmacSecret) {
          this.problems.set(info.path, `${describe(info)} does not support hmac-secret`);
          await session.close();
          continue;
        }
        this.problems.delete(info.path);
        this.opened.set(info.path, { info, name: describe(info), session, tokens: new Map() });
      } catch (err) {
        this.problems.set(info.path, (err as Error).message);
      }
    }
    return [...this.opened.values()];
  }

  /** The first key holding one of `credentialIds` for `rpId`, found without a touch. */
  async locate(rpId: string, credentialIds: readonly Uint8Array[]): Promise<{ authenticator: Authenticator; credentialId: Uint8Array } | null> {
    for (const a of await this.list()) {
      let found: Uint8Array | null;
      try {
        found = await a.session.probe(rpId, credentialIds);
      } catch (err) {
        if (err instanceof Ctap2Error && err.kind === 'DEVICE_GONE') {
          this.opened.delete(a.info.path);
          continue;
        }
        throw err;
      }
      if (found) return { authenticator: a, credentialId: found };
    }
    return null;
  }

  async close(): Promise<void> {
    for (const a of this.opened.values()) await a.session.close().catch(() => undefined);
    this.opened.clear();
  }
}

/** How messages name a key: its product name, with the device path when it is a local HID node. */
export function describe(info: HidDeviceInfo): string {
  if (!info.product) return info.path;
  return info.path.startsWith('/') ? `${info.product} (${info.path})` : info.product;
}

/** A credential found on a plugged-in key (the kit's `OpenDevice` shape). */
export interface LocatedCredential {
  readonly authenticator: Authenticator;
  readonly rpId: string;
  readonly credentialId: Uint8Array;
  /** The key as texts name it (its path and product name), for the PIN prompt and the touch message. */
  readonly ref: { key: string; label: string };
  /** hmac-secret outputs obtained for this credential in this run, by salts and user verification. */
  readonly outputs: Map<string, Uint8Array[]>;
  close(): Promise<void>;
}

/**
 * The device reference of a credential (the kit's `DeviceRef` shape): the key is whichever
 * plugged-in authenticator holds `credentialId` for `rpId`; `label` names the credential in the
 * absent-key texts.
 */
export function credentialRef(rpId: string, credentialId: Uint8Array, label: string): { key: string; label: string } {
  return { key: `${rpId} ${Buffer.from(credentialId).toString('hex')}`, label };
}

/**
 * Device access where a "device" is whichever key holds a credential (the kit's `DeviceAccess`
 * shape, over `credentialRef` keys): `open(ref)` probes the keys silently for the credential and
 * returns null when none holds it — so the kit's absent-device handling (ask, skip, no terminal)
 * applies. The keys stay open until the set is closed (by `release()` with `closeKeys`).
 */
export function credentialAccess(keys: AuthenticatorSet, options: { closeKeys?: boolean } = {}): { open(ref: { key: string }): Promise<LocatedCredential | null>; release(): Promise<void> } {
  return {
    async open(ref) {
      const space = ref.key.lastIndexOf(' ');
      const rpId = ref.key.slice(0, space);
      const found = await keys.locate(rpId, [Uint8Array.from(Buffer.from(ref.key.slice(space + 1), 'hex'))]);
      if (!found) return null;
      const a = found.authenticator;
      return { ...found, rpId, ref: { key: a.info.path, label: a.name }, outputs: new Map(), close: async () => undefined };
    },
    release: async () => {
      if (options.closeKeys) await keys.close();
    },
  };
}

/** What a plugin gives a credential operation (the kit's `TokenContext` fits): its PIN loop and touch message. */
export interface CredentialUser {
  verifyPin(target: Ctap2PinTarget): Promise<void>;
  touch(): Promise<unknown>;
}

/**
 * The hmac-secret outputs (one per 32-byte salt) of a located credential, with user verification
 * through `user.verifyPin` when `uv`, the touch message once per assertion, a pending touch
 * cancelled by `signal`; outputs already obtained for the same salts and `uv` are reused.
 */
export async function credentialHmac(c: LocatedCredential, salts: readonly Uint8Array[], uv: boolean, user: CredentialUser, signal?: AbortSignal): Promise<Uint8Array[]> {
  const key = `${uv}:${salts.map((s) => Buffer.from(s).toString('hex')).join(':')}`;
  const hit = c.outputs.get(key);
  if (hit) return hit;
  const out = await hmacAssertion(
    c.authenticator,
    { rpId: c.rpId, credentialId: c.credentialId, salts },
    { ...(uv ? { verifyPin: (t) => user.verifyPin(t) } : {}), touchNeeded: () => void user.touch().catch(() => undefined), ...(signal ? { signal } : {}) },
  );
  c.outputs.set(key, out);
  return out;
}

/**
 * The PIN of a key as the kit's PIN loop drives it (its `PinTarget` shape): `status()` reports
 * the tries left (and a token already obtained in this process as verified), `verify(pin)` gets a
 * PIN/UV auth token for `permissions` on `rpId` and throws the shared `PIN_INVALID` (with the
 * tries left) / `PIN_BLOCKED`, or `PIN_AUTH_BLOCKED` after three wrong PINs in a row.
 */
export function pinTarget(a: Authenticator, rpId: string, permissions: number = PERMISSION.GET_ASSERTION) {
  const cacheKey = `${permissions}:${rpId}`;
  let token = a.tokens.get(cacheKey);
  return {
    async status(): Promise<{ verified: boolean; retriesLeft?: number }> {
      if (!a.session.pinSet) throw new Ctap2Error('PIN_NOT_SET', `${a.name} has no PIN set, but this credential requires one`);
      if (token) return { verified: true };
      return { verified: false, retriesLeft: (await a.session.getPinRetries()).retries };
    },
    async verify(pin: string): Promise<void> {
      try {
        token = await a.session.getPinToken(pin, permissions, rpId);
      } catch (err) {
        if (err instanceof Ctap2Error && err.kind === 'PIN_AUTH_BLOCKED') {
          throw new Ctap2Error('PIN_AUTH_BLOCKED', `three wrong PINs in a row: unplug ${a.name} and plug it in again before the next try`, { status: 0x34, cause: err });
        }
        throw err;
      }
      // A makeCredential permission is used up by its command (CTAP 2.1); only assertion tokens are kept.
      if (permissions === PERMISSION.GET_ASSERTION) a.tokens.set(cacheKey, token);
    },
    token(): PinToken | undefined {
      return token;
    },
  };
}

export type Ctap2PinTarget = ReturnType<typeof pinTarget>;

export interface HmacRequest {
  readonly rpId: string;
  readonly credentialId: Uint8Array;
  /** One or two 32-byte salts. */
  readonly salts: readonly Uint8Array[];
}

export interface HmacOptions {
  /** Verify the user with the PIN (the UV CredRandom): runs the caller's PIN loop on the target. */
  readonly verifyPin?: (target: Ctap2PinTarget) => Promise<void>;
  /** The key waits for a touch (called once per assertion). */
  readonly touchNeeded?: (keyName: string) => void;
  /** Cancels a pending touch (CTAPHID_CANCEL). */
  readonly signal?: AbortSignal;
}

/** The hmac-secret outputs of a credential on the key that holds it (one per salt). */
export async function hmacAssertion(a: Authenticator, req: HmacRequest, opts: HmacOptions = {}): Promise<Uint8Array[]> {
  let pinToken: PinToken | undefined;
  if (opts.verifyPin) {
    const target = pinTarget(a, req.rpId);
    await opts.verifyPin(target);
    pinToken = target.token();
  }
  let touched = false;
  const r = await a.session.getAssertion({
    rpId: req.rpId,
    allowList: [req.credentialId],
    hmacSalts: req.salts,
    ...(pinToken ? { pinToken } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    onTouch: () => {
      if (touched) return;
      touched = true;
      opts.touchNeeded?.(a.name);
    },
  });
  if (!r.hmacOutputs || r.hmacOutputs.length !== req.salts.length || r.hmacOutputs.some((o) => o.length !== 32)) throw new Ctap2Error('DEVICE', `${a.name} returned no usable hmac-secret output`);
  return [...r.hmacOutputs];
}
