/**
 * age-plugin-fido2prf in-process, as a typage (`age-encryption`) identity that is also its own
 * recipient (fido2prf is symmetric): the kit's engines over the family, for Node programs — where
 * typage's own WebAuthnIdentity needs a browser. Keys come from `keys` (default:
 * KEYBRIDGE_FIDO2_TCP or USB HID, opened for the operation), the PIN from `pin` (fido2prf always
 * verifies the user).
 */
import type { Identity, Recipient, Stanza as TypageStanza } from 'age-encryption';
import type { Decoded } from '../../age/plugin/v1.ts';
import { fido2DeviceSource } from '../../transport/fido2Devices.ts';
import { AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { unwrapInProcess, wrapInProcess, type InProcessFailure, type TokenIdentityOptions } from '../kit/typage.ts';
import { fido2PrfError, fido2PrfFamily } from './family.ts';
import { PLUGIN_NAME, encodeIdentity, parseIdentityString } from './format.ts';

export interface Fido2PrfOptions extends Omit<TokenIdentityOptions, 'pinSources'> {
  keys?: AuthenticatorSet;
  signal?: AbortSignal;
}

const fail: InProcessFailure = (_kind, message) => fido2PrfError(message);

export class Fido2PrfIdentity implements Identity, Recipient {
  private readonly d: Decoded;
  constructor(
    identity: string,
    private readonly opts: Fido2PrfOptions = {},
  ) {
    this.d = { index: 0, plugin: PLUGIN_NAME, data: encodeIdentity(parseIdentityString(identity)) };
  }

  private family() {
    return fido2PrfFamily({ keys: this.opts.keys ?? new AuthenticatorSet(fido2DeviceSource()), closeKeys: !this.opts.keys, ...(this.opts.signal ? { signal: this.opts.signal } : {}) });
  }

  wrapFileKey(fileKey: Uint8Array): Promise<TypageStanza[]> {
    return wrapInProcess(this.family(), { recipients: [], identities: [this.d] }, fileKey, this.opts, fail);
  }

  unwrapFileKey(stanzas: TypageStanza[]): Promise<Uint8Array | null> {
    const f = this.family();
    return unwrapInProcess(f, this.d, stanzas, { ...this.opts, devices: () => f.devices(), interactive: false }, fail);
  }
}
