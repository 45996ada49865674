/**
 * The PRF of a fido2prf credential over CTAP: the two hmac-secret salts of a stanza nonce, with
 * user verification (the PIN) as WebAuthn PRF always asks, from the key that holds the
 * credential (found silently), the touch message naming it, absent keys asked for or skipped.
 */
import type { PluginUi } from '../../age/plugin/ui.ts';
import { hmacSecret, type AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { Ctap2Error } from '../../tokens/ctap2/errors.ts';
import { hmacSalts, type Fido2PrfIdentity } from './format.ts';
import { T } from './texts.ts';

export interface PrfEnvironment {
  readonly keys: AuthenticatorSet;
  readonly ui: Pick<PluginUi, 'message' | 'confirm' | 'requestSecret'>;
  readonly skipNotFound?: boolean;
  readonly interactive?: () => boolean;
  readonly signal?: AbortSignal;
}

export class Fido2PrfError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Fido2PrfError';
  }
}

export class PrfSource {
  private readonly skipped = new Set<string>();
  constructor(private readonly env: PrfEnvironment) {}

  /** The two PRF outputs for `nonce`, or null when the key is absent and skipped. */
  async outputs(id: Fido2PrfIdentity, nonce: Uint8Array, onAbsent: 'ask' | 'fail' = 'ask'): Promise<[Uint8Array, Uint8Array] | null> {
    const idHex = Buffer.from(id.credentialId).toString('hex');
    if (this.skipped.has(idHex)) return null;
    try {
      const r = await hmacSecret(
        this.env.keys,
        { rpId: id.rpId, credentialId: id.credentialId, salts: hmacSalts(nonce), requirePin: true },
        {
          askInserted: () => (onAbsent === 'fail' ? Promise.reject(new Fido2PrfError(T.absentEncrypt(id.rpId))) : this.askInserted(id.rpId)),
          askPin: async ({ keyName, retriesLeft, wrong }) => {
            try {
              return await this.env.ui.requestSecret(wrong ? T.pinWrong(keyName, retriesLeft) : T.pinPromptKey(keyName));
            } catch (cause) {
              throw new Fido2PrfError(T.pinRequired(keyName), { cause });
            }
          },
          touchNeeded: (keyName) => void this.env.ui.message(T.touchKey(keyName)).catch(() => undefined),
          ...(this.env.signal ? { signal: this.env.signal } : {}),
        },
      );
      if (!r) {
        this.skipped.add(idHex);
        return null;
      }
      return [r.outputs[0]!, r.outputs[1]!];
    } catch (err) {
      if (err instanceof Ctap2Error && err.kind === 'PIN_NOT_SET') throw new Fido2PrfError(T.noPinSet(err.message.split(' has no PIN')[0] ?? 'the key'), { cause: err });
      if (err instanceof Ctap2Error) throw new Fido2PrfError(err.message, { cause: err });
      throw err;
    }
  }

  private async askInserted(rpId: string): Promise<boolean> {
    if (this.env.skipNotFound) return false;
    if (this.env.interactive && !this.env.interactive()) throw new Fido2PrfError(T.absentNoTerminal(rpId));
    const r = await this.env.ui.confirm(T.absentQuestion(rpId), T.absentYes, T.absentNo).catch(() => 'unsupported' as const);
    if (r === 'unsupported') throw new Fido2PrfError(T.absentNoTerminal(rpId));
    return r;
  }
}
