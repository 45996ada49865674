/**
 * age-plugin-fido2-hmac in-process, as typage (`age-encryption`) recipients and identities: the
 * kit's engines over the family, without a plugin process. Keys come from `keys` (default:
 * KEYBRIDGE_FIDO2_TCP or USB HID, opened for the operation); the PIN from `pin`; messages
 * ("Please touch your token …") go to `message`. Nobody can be asked about an absent key
 * in-process: it fails, or with `skipNotFound` the identity does not match.
 */
import type { Identity, Recipient, Stanza as TypageStanza } from 'age-encryption';
import { decodePluginIdentity, decodePluginRecipient } from '../../age/bech32.ts';
import type { Decoded } from '../../age/plugin/v1.ts';
import { fido2DeviceSource } from '../../transport/fido2Devices.ts';
import { AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { decodeFor, unwrapInProcess, wrapInProcess, type InProcessFailure, type TokenIdentityOptions } from '../kit/typage.ts';
import { fido2HmacError, fido2HmacFamily } from './family.ts';
import { FormatError, PLUGIN_NAME } from './format.ts';
import { TEXTS } from './texts.ts';

export interface Fido2TypageOptions extends Omit<TokenIdentityOptions, 'pinSources'> {
  /** The keys to use (default: KEYBRIDGE_FIDO2_TCP, else USB HID). */
  keys?: AuthenticatorSet;
  /** Cancels a pending touch. */
  signal?: AbortSignal;
}

const fail: InProcessFailure = (kind, message) => (kind === 'identity' ? new FormatError(message) : fido2HmacError(message));

/** The family for one operation (keys opened here are closed when it ends; given keys stay the caller's). */
const family = (o: Fido2TypageOptions) => fido2HmacFamily({ keys: o.keys ?? new AuthenticatorSet(fido2DeviceSource()), closeKeys: !o.keys, ...(o.signal ? { signal: o.signal } : {}) });

/** A recipient, or an identity used as one (`age -e -i`: symmetric v1, or X25519 to a v2 identity's key). */
abstract class InProcessRecipient implements Recipient {
  protected readonly d: Decoded;
  constructor(
    s: string,
    protected readonly opts: Fido2TypageOptions,
    private readonly as: 'recipients' | 'identities',
  ) {
    const [decode, invalid] = as === 'recipients' ? [decodePluginRecipient, TEXTS.invalidRecipient] : [decodePluginIdentity, TEXTS.invalidIdentity];
    this.d = decodeFor(decode, s, PLUGIN_NAME, () => new FormatError(invalid));
  }
  wrapFileKey(fileKey: Uint8Array): Promise<TypageStanza[]> {
    return wrapInProcess(family(this.opts), { recipients: [], identities: [], [this.as]: [this.d] }, fileKey, this.opts, fail);
  }
}

export class Fido2HmacRecipient extends InProcessRecipient {
  constructor(recipient: string, opts: Fido2TypageOptions = {}) {
    super(recipient, opts, 'recipients');
  }
}

export class Fido2HmacIdentity extends InProcessRecipient implements Identity {
  constructor(identity: string, opts: Fido2TypageOptions = {}) {
    super(identity, opts, 'identities');
  }
  unwrapFileKey(stanzas: TypageStanza[]): Promise<Uint8Array | null> {
    const f = family(this.opts);
    return unwrapInProcess(f, this.d, stanzas, { ...this.opts, devices: () => f.devices(), interactive: false }, fail);
  }
}
