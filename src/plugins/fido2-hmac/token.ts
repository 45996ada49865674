/**
 * How age-plugin-fido2-hmac uses the keys: the hmac-secret of a credential over one salt, from
 * whichever plugged-in key holds it (found silently, so only that key is touched), with its PIN
 * when the credential requires one, the touch message naming the key, absent keys asked for or
 * skipped, and Ctrl-C / a vanished client cancelling a pending touch.
 */
import type { PluginUi } from '../../age/plugin/ui.ts';
import { hmacSecret, type AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { Ctap2Error } from '../../tokens/ctap2/errors.ts';
import { RP_ID } from './format.ts';
import { T } from './texts.ts';

export interface TokenEnvironment {
  readonly keys: AuthenticatorSet;
  readonly ui: Pick<PluginUi, 'message' | 'confirm' | 'requestSecret'>;
  /** AGE_PLUGIN_FIDO2_HMAC_SKIP_NOT_FOUND: absent keys are skipped without asking. */
  readonly skipNotFound?: boolean;
  /** Whether a person can be asked (checked only when a key is missing). */
  readonly interactive?: () => boolean;
  /** Cancels a pending touch (CTAPHID_CANCEL). */
  readonly signal?: AbortSignal;
}

export class Fido2HmacError extends Error {
  constructor(
    message: string,
    readonly kind: 'ABSENT' | 'TOKEN',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'Fido2HmacError';
  }
}

/** hmac-secret outputs already obtained in this process, by credential, salt and PIN use. */
const cacheKey = (id: Uint8Array, salt: Uint8Array, pin: boolean) => `${Buffer.from(id).toString('hex')}:${Buffer.from(salt).toString('hex')}:${pin}`;

export class HmacSource {
  private readonly cache = new Map<string, Uint8Array>();
  private readonly skipped = new Set<string>();

  constructor(private readonly env: TokenEnvironment) {}

  /**
   * The 32-byte hmac-secret of `credentialId` over `salt`, or null when no plugged-in key holds
   * the credential and the user skipped it (or skipping is configured).
   */
  async hmac(credentialId: Uint8Array, salt: Uint8Array, requirePin: boolean, what: string): Promise<Uint8Array | null> {
    const key = cacheKey(credentialId, salt, requirePin);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const idHex = Buffer.from(credentialId).toString('hex');
    if (this.skipped.has(idHex)) return null;
    let r: Awaited<ReturnType<typeof hmacSecret>>;
    try {
      r = await hmacSecret(
        this.env.keys,
        { rpId: RP_ID, credentialId, salts: [salt], requirePin },
        {
          askInserted: () => this.askInserted(what),
          askPin: async ({ keyName, retriesLeft, wrong }) => {
            try {
              return await this.env.ui.requestSecret(wrong ? T.pinWrong(keyName, retriesLeft) : T.pinPromptKey(keyName));
            } catch (cause) {
              throw new Fido2HmacError(T.pinRequired(keyName), 'TOKEN', { cause });
            }
          },
          touchNeeded: (keyName) => void this.env.ui.message(T.touchKey(keyName)).catch(() => undefined),
          ...(this.env.signal ? { signal: this.env.signal } : {}),
        },
      );
    } catch (err) {
      if (err instanceof Ctap2Error) throw new Fido2HmacError(err.message, 'TOKEN', { cause: err });
      throw err;
    }
    if (!r) {
      this.skipped.add(idHex);
      return null;
    }
    const out = r.outputs[0]!;
    if (out.length !== 32) throw new Fido2HmacError(T.hmacLength, 'TOKEN');
    this.cache.set(key, out);
    return out;
  }

  private async askInserted(what: string): Promise<boolean> {
    if (this.env.skipNotFound) return false;
    if (this.env.interactive && !this.env.interactive()) throw new Fido2HmacError(T.absentNoTerminal(what), 'ABSENT');
    const r = await this.env.ui.confirm(T.absentQuestion(what), T.absentYes, T.absentNo).catch(() => 'unsupported' as const);
    if (r === 'unsupported') throw new Fido2HmacError(T.absentNoTerminal(what), 'ABSENT');
    return r;
  }
}
