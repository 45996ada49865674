/**
 * In-process age recipients and identities for JavaScript programs using typage
 * (`age-encryption`): encrypt to `age1yubikey1…` and decrypt with a YubiKey, with no plugin
 * process — the kit's generic adapters over the YubiKey family.
 *
 *   const e = new Encrypter(); e.addRecipient(new YubiKeyRecipient('age1yubikey1…'));
 *   const d = new Decrypter(); d.addIdentity(new YubiKeyIdentity('AGE-PLUGIN-YUBIKEY-1…', { readers, pin }));
 */
import type { CardReaders } from '../../transport/readers.ts';
import { TokenIdentity, TokenRecipient, type TokenIdentityOptions } from '../kit/typage.ts';
import { YubiKeyError } from './errors.ts';
import { yubikeyDevices, yubikeyFamily, type YubiKeyDevice, type YubiKeyStanza } from './family.ts';
import type { Stub } from './stub.ts';
import { S } from './strings.ts';

export class YubiKeyRecipient extends TokenRecipient<Uint8Array> {
  constructor(recipient: string) {
    super(yubikeyFamily({ readers: never }), recipient, () => new YubiKeyError('INVALID_RECIPIENT', S.invalidRecipient));
  }
  /** The 33-byte compressed P-256 point. */
  get publicKey(): Uint8Array {
    return this.recipient;
  }
}

export interface YubiKeyIdentityOptions extends TokenIdentityOptions {
  /** The reader system (stays open: the caller owns it). */
  readers: CardReaders;
}

const CODES = { identity: 'INVALID_STUB', stanza: 'INVALID_STANZA', device: 'CARD', pin: 'PIN_REQUIRED' } as const;

export class YubiKeyIdentity extends TokenIdentity<Stub, YubiKeyStanza, Uint8Array, YubiKeyDevice> {
  constructor(identity: string, opts: YubiKeyIdentityOptions) {
    const readers = opts.readers;
    super(
      yubikeyFamily({ readers: async () => readers }),
      identity,
      { ...opts, devices: () => yubikeyDevices(readers, async () => undefined) },
      (kind, message) => new YubiKeyError(CODES[kind], message),
    );
  }
}

async function never(): Promise<CardReaders> {
  throw new YubiKeyError('CARD', 'no YubiKey is needed to encrypt');
}
