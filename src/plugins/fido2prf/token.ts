/**
 * The PRF of a fido2prf credential over CTAP: the two hmac-secret salts of a stanza nonce, with
 * user verification (the kit's PIN loop) as WebAuthn PRF always asks, from the key that holds
 * the credential (found silently; an absent key asked for, skipped or refused by the kit's
 * rules), the touch message naming the key.
 */
import { credentialAccess, hmacAssertion, type AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { Ctap2Error } from '../../tokens/ctap2/errors.ts';
import { TokenError } from '../../tokens/errors.ts';
import { userRules, type UserRulesOptions } from '../kit/session.ts';
import { PLUGIN_NAME, hmacSalts, type Fido2PrfIdentity } from './format.ts';
import { T, TEXTS } from './texts.ts';

export interface PrfEnvironment extends Omit<UserRulesOptions, 'family' | 'texts'> {
  readonly keys: AuthenticatorSet;
  readonly signal?: AbortSignal;
}

export class Fido2PrfError extends TokenError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('FIDO2PRF', message, options);
    this.name = 'Fido2PrfError';
  }
}

export class PrfSource {
  private readonly skipped = new Set<string>();
  constructor(private readonly env: PrfEnvironment) {}

  /**
   * The two PRF outputs for `nonce`, or null when the key is absent and skipped. `onAbsent:
   * 'fail'` (encrypting) refuses instead of asking.
   */
  async outputs(id: Fido2PrfIdentity, nonce: Uint8Array, onAbsent: 'ask' | 'fail' = 'ask'): Promise<[Uint8Array, Uint8Array] | null> {
    const idHex = Buffer.from(id.credentialId).toString('hex');
    if (this.skipped.has(idHex)) return null;
    const rules = userRules({ ...this.env, family: PLUGIN_NAME, texts: TEXTS, ...(onAbsent === 'fail' ? { skipNotFound: false, interactive: false } : {}) });
    const located = await rules.open(credentialAccess(this.env.keys, id.rpId), { key: idHex, label: T.credential(id.rpId) });
    if (!located) {
      this.skipped.add(idHex);
      return null;
    }
    const a = located.authenticator;
    if (!a.session.pinSet) throw new Ctap2Error('PIN_NOT_SET', T.noPinSet(a.name));
    const [o1, o2] = await hmacAssertion(
      a,
      { rpId: id.rpId, credentialId: id.credentialId, salts: hmacSalts(nonce) },
      { verifyPin: (t) => rules.verifyPin(t, { key: a.info.path, label: a.name }), touchNeeded: (name) => rules.touch(name), ...(this.env.signal ? { signal: this.env.signal } : {}) },
    );
    return [o1!, o2!];
  }
}
