/**
 * The FIDO2 authenticators plugged in, as sessions: opened once, probed silently (up=false) to
 * find the one that holds a credential — so only that key is ever asked for a touch — and used
 * for hmac-secret assertions with a PIN when the credential needs one. A key that cannot be opened
 * (no permission, not CTAP2, no hmac-secret) is remembered with the reason, so "no key holds this
 * credential" can say why.
 */
import { CtapHidDevice } from '../../transport/ctaphid.ts';
import type { HidDeviceInfo } from '../../transport/hid/connection.ts';
import type { Fido2DeviceSource } from '../../transport/fido2Devices.ts';
import { Ctap2Error } from './errors.ts';
import { Ctap2Session, PERMISSION, type PinToken } from './session.ts';

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
      try {
        const session = await Ctap2Session.open(await CtapHidDevice.open(info));
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

/** What the PIN loop needs from the user interface. */
export interface PinAsker {
  /**
   * Asks for the PIN of `keyName`; `retriesLeft` is what the key reports, `wrong` whether the
   * previous entry was wrong. Rejecting ends the loop with that error.
   */
  (ask: { keyName: string; retriesLeft: number; wrong: boolean }): Promise<string>;
}

/**
 * A PIN token for getAssertion on `rpId`: asks again after a wrong PIN while more than one try
 * is left, and never spends the last try (`PIN_LAST_TRY`). Cached for the process.
 */
export async function pinTokenFor(a: Authenticator, rpId: string, ask: PinAsker, permissions: number = PERMISSION.GET_ASSERTION): Promise<PinToken> {
  const cacheKey = `${permissions}:${rpId}`;
  const cached = a.tokens.get(cacheKey);
  if (cached) return cached;
  if (!a.session.pinSet) throw new Ctap2Error('PIN_NOT_SET', `${a.name} has no PIN set, but this credential requires one`);
  let { retries } = await a.session.getPinRetries();
  let wrong = false;
  for (;;) {
    if (retries === 0) throw new Ctap2Error('PIN_BLOCKED', `the PIN of ${a.name} is blocked; only a reset of its FIDO2 application (which deletes its credentials) helps`);
    if (retries === 1) {
      throw new Ctap2Error('PIN_LAST_TRY', `only one PIN try is left on ${a.name}; not spending it here. Enter the PIN where you can check it (e.g. \`ykman fido access verify-pin\`): a correct PIN resets the counter`);
    }
    const pin = await ask({ keyName: a.name, retriesLeft: retries, wrong });
    try {
      const token = await a.session.getPinToken(pin, permissions, rpId);
      // A makeCredential permission is used up by its command (CTAP 2.1); only cache assertion tokens.
      if (permissions === PERMISSION.GET_ASSERTION) a.tokens.set(cacheKey, token);
      return token;
    } catch (err) {
      if (err instanceof Ctap2Error && err.kind === 'PIN_INVALID') {
        retries = err.retriesLeft ?? retries - 1;
        wrong = true;
        continue;
      }
      if (err instanceof Ctap2Error && err.kind === 'PIN_AUTH_BLOCKED') {
        throw new Ctap2Error('PIN_AUTH_BLOCKED', `three wrong PINs in a row: unplug ${a.name} and plug it in again before the next try`, { status: 0x34 });
      }
      throw err;
    }
  }
}

/**
 * `locate`, and when no key holds the credential, `askInserted()` (true: "it is plugged in now",
 * false: skip); after a yes, waits up to `settleMs` for the key to appear before asking again.
 */
export async function locateOrAsk(
  keys: AuthenticatorSet,
  rpId: string,
  credentialIds: readonly Uint8Array[],
  askInserted: () => Promise<boolean>,
  settleMs = 3000,
): Promise<{ authenticator: Authenticator; credentialId: Uint8Array } | null> {
  for (;;) {
    const found = await keys.locate(rpId, credentialIds);
    if (found) return found;
    if (!(await askInserted())) return null;
    const until = Date.now() + settleMs;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      const again = await keys.locate(rpId, credentialIds);
      if (again) return again;
    }
  }
}

export interface HmacRequest {
  readonly rpId: string;
  readonly credentialId: Uint8Array;
  /** One or two 32-byte salts. */
  readonly salts: readonly Uint8Array[];
  /** Verify the user with the PIN (the UV CredRandom). */
  readonly requirePin: boolean;
}

export interface HmacInteraction {
  /** No plugged-in key holds the credential: true when the user says it is plugged in now. */
  askInserted(): Promise<boolean>;
  askPin: PinAsker;
  /** The key waits for a touch (once per assertion). */
  touchNeeded(keyName: string): void;
  /** Cancels a pending touch. */
  readonly signal?: AbortSignal;
}

/**
 * The hmac-secret outputs of a credential from whichever key holds it (found without a touch),
 * or null when no key holds it and the user skipped it. Only that key is asked for a PIN and a
 * touch.
 */
export async function hmacSecret(keys: AuthenticatorSet, req: HmacRequest, io: HmacInteraction): Promise<{ outputs: Uint8Array[]; authenticator: Authenticator } | null> {
  const found = await locateOrAsk(keys, req.rpId, [req.credentialId], () => io.askInserted());
  if (!found) return null;
  const a = found.authenticator;
  const pinToken = req.requirePin ? await pinTokenFor(a, req.rpId, io.askPin) : undefined;
  let touched = false;
  const r = await a.session.getAssertion({
    rpId: req.rpId,
    allowList: [req.credentialId],
    hmacSalts: req.salts,
    ...(pinToken ? { pinToken } : {}),
    ...(io.signal ? { signal: io.signal } : {}),
    onTouch: () => {
      if (touched) return;
      touched = true;
      io.touchNeeded(a.name);
    },
  });
  if (!r.hmacOutputs || r.hmacOutputs.length !== req.salts.length) throw new Ctap2Error('DEVICE', `${a.name} returned no hmac-secret output`);
  return { outputs: [...r.hmacOutputs], authenticator: a };
}
