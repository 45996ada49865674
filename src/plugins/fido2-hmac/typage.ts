/**
 * age-plugin-fido2-hmac in-process, as typage (`age-encryption`) recipients and identities: the
 * same engines as the plugin, without a plugin process. Keys come from `keys` (default:
 * KEYBRIDGE_FIDO2_TCP or USB HID); the PIN from `pin`; messages ("Please touch your token …") go
 * to `message`. Nobody can be asked about an absent key in-process: it fails, or with
 * `skipNotFound` the identity does not match.
 */
import { Stanza as TypageStanza, type Identity, type Recipient } from 'age-encryption';
import { decodePluginIdentity, decodePluginRecipient } from '../../age/bech32.ts';
import type { Decoded } from '../../age/plugin/v1.ts';
import { inProcessUi, type InProcessUser } from '../kit/session.ts';
import { fido2DeviceSource } from '../../transport/fido2Devices.ts';
import { AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { FormatError, PLUGIN_NAME } from './format.ts';
import { TEXTS } from './texts.ts';
import { Fido2HmacError, HmacSource } from './token.ts';
import { unwrapFiles } from './unwrap.ts';
import { wrapFileKeys } from './wrap.ts';

export interface Fido2TypageOptions extends InProcessUser {
  /** The keys to use (default: KEYBRIDGE_FIDO2_TCP, else USB HID). */
  keys?: AuthenticatorSet;
  /** No key holds the credential: the identity does not match (instead of an error). */
  skipNotFound?: boolean;
  /** Cancels a pending touch. */
  signal?: AbortSignal;
}

function decoded(s: string, decode: (s: string) => { name: string; data: Uint8Array }, invalid: string): Decoded {
  let d;
  try {
    d = decode(s);
  } catch (cause) {
    throw new FormatError(`${invalid} (${(cause as Error).message})`);
  }
  if (d.name !== PLUGIN_NAME) throw new FormatError(invalid);
  return { index: 0, plugin: d.name, data: d.data };
}

function context(o: Fido2TypageOptions) {
  const keys = o.keys ?? new AuthenticatorSet(fido2DeviceSource());
  const ui = inProcessUi(o, () => new Fido2HmacError('a PIN is required (pass the pin option)'));
  const source = new HmacSource({ keys, ui, skipNotFound: o.skipNotFound ?? false, interactive: false, ...(o.signal ? { signal: o.signal } : {}) });
  // Keys opened here are closed after the operation; given keys stay the caller's.
  return { keys, ui, source, done: () => (o.keys ? Promise.resolve() : keys.close()) };
}

const toTypage = (s: { type: string; args: string[]; body: Uint8Array }) => new TypageStanza([s.type, ...s.args], s.body);

export class Fido2HmacRecipient implements Recipient {
  private readonly d: Decoded;
  constructor(
    recipient: string,
    private readonly opts: Fido2TypageOptions = {},
  ) {
    this.d = decoded(recipient, decodePluginRecipient, TEXTS.invalidRecipient);
  }
  async wrapFileKey(fileKey: Uint8Array): Promise<TypageStanza[]> {
    const { keys, ui, source, done } = context(this.opts);
    const r = await wrapFileKeys({ recipients: [this.d], identities: [], fileKeys: [fileKey] }, source, keys, ui, this.opts.signal).finally(done);
    if (r.errors.length) throw new Fido2HmacError(r.errors[0]!.message);
    return r.stanzas[0]!.map(toTypage);
  }
}

export class Fido2HmacIdentity implements Identity, Recipient {
  private readonly d: Decoded;
  constructor(
    identity: string,
    private readonly opts: Fido2TypageOptions = {},
  ) {
    this.d = decoded(identity, decodePluginIdentity, TEXTS.invalidIdentity);
  }
  /** Encrypting "to the identity" (`age -e -i`): symmetric v1, or X25519 to a v2 identity's key. */
  async wrapFileKey(fileKey: Uint8Array): Promise<TypageStanza[]> {
    const { keys, ui, source, done } = context(this.opts);
    const r = await wrapFileKeys({ recipients: [], identities: [this.d], fileKeys: [fileKey] }, source, keys, ui, this.opts.signal).finally(done);
    if (r.errors.length) throw new Fido2HmacError(r.errors[0]!.message);
    return r.stanzas[0]!.map(toTypage);
  }
  async unwrapFileKey(stanzas: TypageStanza[]): Promise<Uint8Array | null> {
    const { source, done } = context(this.opts);
    const r = await unwrapFiles([this.d], [stanzas.map((s) => ({ type: s.args[0] ?? '', args: s.args.slice(1), body: s.body }))], source).finally(done);
    const key = r.fileKeys.get(0);
    if (key) return key;
    const err = r.errors.find((e) => e.kind !== 'stanza') ?? r.errors[0];
    if (err) throw new Fido2HmacError(err.message);
    return null;
  }
}
