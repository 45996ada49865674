/**
 * The generic half of the in-process typage (`age-encryption`) adapters: a `Recipient` and an
 * `Identity` for any family, running the kit's engines without a plugin process. A family's
 * adapter only names itself and passes its options through.
 */
import { Stanza as TypageStanza, type Identity, type Recipient } from 'age-encryption';
import { decodePluginIdentity, decodePluginRecipient } from '../../age/bech32.ts';
import type { Decoded } from '../../age/plugin/v1.ts';
import type { PluginUi } from '../../age/plugin/ui.ts';
import type { DeviceAccess, OpenDevice, TokenFamily } from './family.ts';
import { unwrapFiles } from './identity.ts';
import type { PinSource } from './pinSource.ts';

/** Decodes a recipient or identity string for a family, or throws `invalid`. */
function decodeFor(decode: (s: string) => { name: string; data: Uint8Array }, s: string, name: string, invalid: () => Error): Decoded {
  let d;
  try {
    d = decode(s);
  } catch (cause) {
    throw Object.assign(invalid(), { cause });
  }
  if (d.name !== name) throw invalid();
  return { index: 0, plugin: d.name, data: d.data };
}

export class TokenRecipient<R> implements Recipient {
  readonly recipient: R;
  constructor(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    private readonly family: TokenFamily<any, any, R, any>,
    recipient: string,
    invalid: () => Error,
  ) {
    const d = decodeFor(decodePluginRecipient, recipient, family.name, invalid);
    try {
      this.recipient = family.parseRecipient(d.data);
    } catch (cause) {
      throw Object.assign(invalid(), { cause });
    }
  }
  wrapFileKey(fileKey: Uint8Array): TypageStanza[] {
    return this.family.wrap(fileKey, this.recipient).map((s) => new TypageStanza([s.type, ...s.args], s.body));
  }
}

export interface TokenIdentityOptions {
  /** Supplies the PIN when the device requires it; reject to decline. */
  pin?: (prompt: string) => Promise<string>;
  /** Receives messages such as "Touch your …". */
  message?: (text: string) => void;
  /** Skip (return null) instead of failing when the device is not plugged in. */
  skipNotFound?: boolean;
  /** PIN sources asked before `pin` (an agent). */
  pinSources?: PinSource[];
}

export class TokenIdentity<I, P, R, D extends OpenDevice> implements Identity {
  private readonly decoded: Decoded;
  constructor(
    private readonly family: TokenFamily<I, P, R, D>,
    identity: string,
    private readonly opts: TokenIdentityOptions & { devices: () => DeviceAccess<D> },
    private readonly fail: (kind: 'identity' | 'stanza' | 'device' | 'pin', message: string) => Error,
  ) {
    this.decoded = decodeFor(decodePluginIdentity, identity, family.name, () => fail('identity', family.texts.invalidIdentity));
    try {
      family.parseIdentity(this.decoded.data);
    } catch (cause) {
      throw Object.assign(fail('identity', family.texts.invalidIdentity), { cause });
    }
  }

  async unwrapFileKey(stanzas: TypageStanza[]): Promise<Uint8Array | null> {
    const ui: PluginUi = {
      message: async (t) => this.opts.message?.(t),
      confirm: async () => {
        throw this.fail('device', 'not plugged in');
      },
      requestPublic: async () => {
        throw this.fail('pin', 'no user to ask');
      },
      requestSecret: async (p) => {
        if (!this.opts.pin) throw this.fail('pin', 'A PIN is required');
        return this.opts.pin(p);
      },
    };
    const files = [stanzas.map((s) => ({ type: s.args[0] ?? '', args: s.args.slice(1), body: s.body }))];
    const r = await unwrapFiles(
      this.family,
      { identities: [this.decoded], files },
      { ui, skipNotFound: this.opts.skipNotFound ?? false, interactive: true, ...(this.opts.pinSources ? { pinSources: this.opts.pinSources } : {}) },
      this.opts.devices(),
    );
    const key = r.fileKeys.get(0);
    if (key) return key;
    const err = r.errors[0];
    if (err) throw this.fail(err.kind === 'stanza' ? 'stanza' : 'device', err.message);
    return null;
  }
}
