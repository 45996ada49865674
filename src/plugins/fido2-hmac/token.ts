/**
 * How age-plugin-fido2-hmac uses the keys, on the plugin kit: the hmac-secret of a credential
 * over one salt from whichever plugged-in key holds it (found silently, so only that key is
 * touched; an absent key asked for, skipped or refused by the kit's presence rules), with the
 * kit's PIN loop when the credential requires a PIN, the touch message naming the key, and a
 * pending touch cancelled through the abort signal.
 */
import type { PluginUi } from '../../age/plugin/ui.ts';
import { credentialAccess, hmacAssertion, type AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { TokenError } from '../../tokens/errors.ts';
import { verifyPin } from '../kit/pin.ts';
import { userPinSource, type PinSource } from '../kit/pinSource.ts';
import { openOrAsk } from '../kit/presence.ts';
import { PLUGIN_NAME, RP_ID } from './format.ts';
import { TEXTS } from './texts.ts';

export interface TokenEnvironment {
  readonly keys: AuthenticatorSet;
  readonly ui: Pick<PluginUi, 'message' | 'confirm' | 'requestSecret'>;
  /** AGE_PLUGIN_FIDO2_HMAC_SKIP_NOT_FOUND: absent keys are skipped without asking. */
  readonly skipNotFound?: boolean;
  /** Whether a person can be asked (checked only when a key is missing). */
  readonly interactive?: boolean | (() => boolean);
  /** PIN sources before the user (an agent, CI). */
  readonly pinSources?: PinSource[];
  /** Cancels a pending touch (CTAPHID_CANCEL). */
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
}

/** A failure of this family that is not a token error (an absent key when encrypting …). */
export class Fido2HmacError extends TokenError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('FIDO2_HMAC', message, options);
    this.name = 'Fido2HmacError';
  }
}

/** hmac-secret outputs already obtained in this process, by credential, salt and PIN use. */
const cacheKey = (id: Uint8Array, salt: Uint8Array, pin: boolean) => `${Buffer.from(id).toString('hex')}:${Buffer.from(salt).toString('hex')}:${pin}`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class HmacSource {
  private readonly cache = new Map<string, Uint8Array>();
  private readonly skipped = new Set<string>();

  constructor(private readonly env: TokenEnvironment) {}

  /**
   * The 32-byte hmac-secret of `credentialId` over `salt`, or null when no plugged-in key holds
   * the credential and it was skipped. `what` names the credential in texts.
   */
  async hmac(credentialId: Uint8Array, salt: Uint8Array, requirePin: boolean, what: string): Promise<Uint8Array | null> {
    const key = cacheKey(credentialId, salt, requirePin);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const idHex = Buffer.from(credentialId).toString('hex');
    if (this.skipped.has(idHex)) return null;
    const { ui } = this.env;
    const located = await openOrAsk(credentialAccess(this.env.keys, RP_ID), { key: idHex, label: what }, {
      texts: TEXTS,
      ui: { ...ui, requestPublic: () => Promise.reject(new Error('unsupported')) },
      skipNotFound: this.env.skipNotFound ?? false,
      interactive: this.env.interactive ?? true,
      sleep,
      ...(this.env.log ? { log: this.env.log } : {}),
    });
    if (!located) {
      this.skipped.add(idHex);
      return null;
    }
    const a = located.authenticator;
    const sources = [...(this.env.pinSources ?? []), userPinSource(ui)];
    const [out] = await hmacAssertion(
      a,
      { rpId: RP_ID, credentialId, salts: [salt] },
      {
        ...(requirePin ? { verifyPin: (t) => verifyPin(t, { family: PLUGIN_NAME, device: { key: a.info.path, label: a.name }, texts: TEXTS, sources }) } : {}),
        touchNeeded: (name) => void ui.message(TEXTS.touch(name)).catch(() => undefined),
        ...(this.env.signal ? { signal: this.env.signal } : {}),
      },
    );
    this.cache.set(key, out!);
    return out!;
  }
}
