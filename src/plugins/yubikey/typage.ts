/**
 * In-process age recipients and identities for JavaScript programs using typage
 * (`age-encryption`): encrypt to `age1yubikey1…` and decrypt with a YubiKey, with no plugin
 * process — the kit's reader adapters over the YubiKey family.
 *
 *   const e = new Encrypter(); e.addRecipient(new YubiKeyRecipient('age1yubikey1…'));
 *   const d = new Decrypter(); d.addIdentity(new YubiKeyIdentity('AGE-PLUGIN-YUBIKEY-1…', { readers, pin }));
 */
import { readerAdapters, type ReaderIdentityOptions } from '../kit/typage.ts';
import { YubiKeyError } from './errors.ts';
import { yubikeyDevices, yubikeyFamily } from './family.ts';

const CODES = { recipient: 'INVALID_RECIPIENT', identity: 'INVALID_STUB', stanza: 'INVALID_STANZA', device: 'CARD', pin: 'PIN_REQUIRED' } as const;
/** `YubiKeyRecipient`'s `publicKey` is the 33-byte compressed P-256 point; `YubiKeyIdentity` decrypts with the device among `readers`. */
export const { Recipient: YubiKeyRecipient, Identity: YubiKeyIdentity } = readerAdapters(yubikeyFamily, yubikeyDevices, 'YubiKey', (kind, message) => new YubiKeyError(CODES[kind], message));
export type YubiKeyRecipient = InstanceType<typeof YubiKeyRecipient>;
export type YubiKeyIdentity = InstanceType<typeof YubiKeyIdentity>;
export type YubiKeyIdentityOptions = ReaderIdentityOptions;
