/**
 * The PRF of a fido2prf credential over CTAP, on the plugin kit: the two hmac-secret salts of a
 * stanza nonce, with user verification (the kit's PIN loop) as WebAuthn PRF always asks, from
 * the key that holds the credential (found silently; an absent key asked for, skipped or refused
 * by the kit's presence rules), the touch message naming the key.
 */
import type { PluginUi } from '../../age/plugin/ui.ts';
import { credentialAccess, hmacAssertion, type AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { Ctap2Error } from '../../tokens/ctap2/errors.ts';
import { TokenError } from '../../tokens/errors.ts';
import { verifyPin } from '../kit/pin.ts';
import { userPinSource, type PinSource } from '../kit/pinSource.ts';
import { openOrAsk } from '../kit/presence.ts';
import { PLUGIN_NAME, hmacSalts, type Fido2PrfIdentity } from './format.ts';
import { T, TEXTS } from './texts.ts';

export interface PrfEnvironment {
  readonly keys: AuthenticatorSet;
  readonly ui: Pick<PluginUi, 'message' | 'confirm' | 'requestSecret'>;
  readonly skipNotFound?: boolean;
  readonly interactive?: boolean | (() => boolean);
  readonly pinSources?: PinSource[];
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
}

export class Fido2PrfError extends TokenError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('FIDO2PRF', message, options);
    this.name = 'Fido2PrfError';
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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
    const { ui } = this.env;
    const what = T.credential(id.rpId);
    const located = await openOrAsk(credentialAccess(this.env.keys, id.rpId), { key: idHex, label: what }, {
      texts: TEXTS,
      ui: { ...ui, requestPublic: () => Promise.reject(new Error('unsupported')) },
      skipNotFound: onAbsent === 'ask' && (this.env.skipNotFound ?? false),
      interactive: onAbsent === 'ask' ? (this.env.interactive ?? true) : false,
      sleep,
      ...(this.env.log ? { log: this.env.log } : {}),
    });
    if (!located) {
      this.skipped.add(idHex);
      return null;
    }
    const a = located.authenticator;
    if (!a.session.pinSet) throw new Ctap2Error('PIN_NOT_SET', T.noPinSet(a.name));
    const sources = [...(this.env.pinSources ?? []), userPinSource(ui)];
    const [o1, o2] = await hmacAssertion(
      a,
      { rpId: id.rpId, credentialId: id.credentialId, salts: hmacSalts(nonce) },
      {
        verifyPin: (t) => verifyPin(t, { family: PLUGIN_NAME, device: { key: a.info.path, label: a.name }, texts: TEXTS, sources }),
        touchNeeded: (name) => void ui.message(TEXTS.touch(name)).catch(() => undefined),
        ...(this.env.signal ? { signal: this.env.signal } : {}),
      },
    );
    return [o1!, o2!];
  }
}
