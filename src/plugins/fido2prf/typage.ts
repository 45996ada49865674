/**
 * age-plugin-fido2prf in-process, as a typage (`age-encryption`) identity that is also its own
 * recipient (fido2prf is symmetric): the plugin's engines over CTAP, for Node programs — where
 * typage's own WebAuthnIdentity needs a browser. Keys come from `keys` (default:
 * KEYBRIDGE_FIDO2_TCP or USB HID), the PIN from `pin` (fido2prf always verifies the user).
 */
import { Stanza as TypageStanza, type Identity, type Recipient } from 'age-encryption';
import { fido2DeviceSource } from '../../transport/fido2Devices.ts';
import { AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { inProcessUi, type InProcessUser } from '../kit/session.ts';
import { encodeIdentity, parseIdentityString } from './format.ts';
import { unwrapFiles, wrapToIdentities } from './plugin.ts';
import { Fido2PrfError, PrfSource } from './token.ts';

export interface Fido2PrfOptions extends InProcessUser {
  keys?: AuthenticatorSet;
  /** No key holds the credential: the identity does not match (instead of an error). */
  skipNotFound?: boolean;
  signal?: AbortSignal;
}

export class Fido2PrfIdentity implements Identity, Recipient {
  private readonly data: Uint8Array;
  constructor(
    identity: string,
    private readonly opts: Fido2PrfOptions = {},
  ) {
    this.data = encodeIdentity(parseIdentityString(identity));
  }

  private async run<T>(f: (source: PrfSource) => Promise<T>): Promise<T> {
    const keys = this.opts.keys ?? new AuthenticatorSet(fido2DeviceSource());
    const ui = inProcessUi(this.opts, () => new Fido2PrfError('a PIN is required (pass the pin option)'));
    const source = new PrfSource({ keys, ui, skipNotFound: this.opts.skipNotFound ?? false, interactive: false, ...(this.opts.signal ? { signal: this.opts.signal } : {}) });
    try {
      return await f(source);
    } finally {
      if (!this.opts.keys) await keys.close();
    }
  }

  async wrapFileKey(fileKey: Uint8Array): Promise<TypageStanza[]> {
    const r = await this.run((s) => wrapToIdentities([{ index: 0, plugin: 'fido2prf', data: this.data }], [fileKey], s));
    if (r.errors.length) throw new Fido2PrfError(r.errors[0]!.message);
    return r.stanzas[0]!.map((st) => new TypageStanza([st.type, ...st.args], st.body));
  }

  async unwrapFileKey(stanzas: TypageStanza[]): Promise<Uint8Array | null> {
    const files = [stanzas.map((s) => ({ type: s.args[0] ?? '', args: s.args.slice(1), body: s.body }))];
    const r = await this.run((s) => unwrapFiles([{ index: 0, plugin: 'fido2prf', data: this.data }], files, s));
    const key = r.fileKeys.get(0);
    if (key) return key;
    if (r.errors[0]) throw new Fido2PrfError(r.errors[0].message);
    return null;
  }
}
