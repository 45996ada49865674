/**
 * How age-plugin-fido2-hmac uses the keys: the hmac-secret of a credential over one salt from
 * whichever plugged-in key holds it (found silently, so only that key is touched; an absent key
 * asked for, skipped or refused by the kit's rules), with the kit's PIN loop when the credential
 * requires a PIN, the touch message naming the key, and a pending touch cancelled through the
 * abort signal.
 */
import { credentialAccess, hmacAssertion, type AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { TokenError } from '../../tokens/errors.ts';
import { userRules, type UserRules, type UserRulesOptions } from '../kit/session.ts';
import { PLUGIN_NAME, RP_ID } from './format.ts';
import { TEXTS } from './texts.ts';

export interface TokenEnvironment extends Omit<UserRulesOptions, 'family' | 'texts'> {
  readonly keys: AuthenticatorSet;
  /** Cancels a pending touch (CTAPHID_CANCEL). */
  readonly signal?: AbortSignal;
}

/** A failure of this family that is not a token error (an absent key when encrypting …). */
export class Fido2HmacError extends TokenError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('FIDO2_HMAC', message, options);
    this.name = 'Fido2HmacError';
  }
}

export class HmacSource {
  /** hmac-secret outputs already obtained in this process, by credential, salt and PIN use. */
  private readonly cache = new Map<string, Uint8Array>();
  private readonly skipped = new Set<string>();
  private readonly rules: UserRules;

  constructor(private readonly env: TokenEnvironment) {
    this.rules = userRules({ ...env, family: PLUGIN_NAME, texts: TEXTS });
  }

  /**
   * The 32-byte hmac-secret of `credentialId` over `salt`, or null when no plugged-in key holds
   * the credential and it was skipped. `what` names the credential in texts.
   */
  async hmac(credentialId: Uint8Array, salt: Uint8Array, requirePin: boolean, what: string): Promise<Uint8Array | null> {
    const idHex = Buffer.from(credentialId).toString('hex');
    const key = `${idHex}:${Buffer.from(salt).toString('hex')}:${requirePin}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    if (this.skipped.has(idHex)) return null;
    const located = await this.rules.open(credentialAccess(this.env.keys, RP_ID), { key: idHex, label: what });
    if (!located) {
      this.skipped.add(idHex);
      return null;
    }
    const a = located.authenticator;
    const [out] = await hmacAssertion(
      a,
      { rpId: RP_ID, credentialId, salts: [salt] },
      {
        ...(requirePin ? { verifyPin: (t) => this.rules.verifyPin(t, { key: a.info.path, label: a.name }) } : {}),
        touchNeeded: (name) => this.rules.touch(name),
        ...(this.env.signal ? { signal: this.env.signal } : {}),
      },
    );
    this.cache.set(key, out!);
    return out!;
  }
}
