/**
 * In-process age recipients and identities for JavaScript programs using typage
 * (`age-encryption`): encrypt to `age1picohsm1…` and decrypt with a Pico HSM (picohsm, p256tag
 * and X25519 stanzas), with no plugin process — the kit's reader adapters over the Pico HSM
 * family.
 *
 *   const e = new Encrypter(); e.addRecipient(new PicoHsmRecipient('age1picohsm1…'));
 *   const d = new Decrypter(); d.addIdentity(new PicoHsmIdentity('AGE-PLUGIN-PICOHSM-1…', { readers, pin }));
 */
import { readerAdapters, type ReaderIdentityOptions } from '../kit/typage.ts';
import { PicoHsmError } from './errors.ts';
import { picoHsmDevices, picoHsmFamily } from './family.ts';

const CODES = { recipient: 'INVALID_RECIPIENT', identity: 'INVALID_IDENTITY', stanza: 'INVALID_STANZA', device: 'DEVICE', pin: 'DEVICE' } as const;
/** `PicoHsmRecipient`'s `publicKey` is the 65-byte uncompressed P-256 point; `PicoHsmIdentity` decrypts with the device among `readers`. */
export const { Recipient: PicoHsmRecipient, Identity: PicoHsmIdentity } = readerAdapters(picoHsmFamily, picoHsmDevices, 'Pico HSM', (kind, message) => new PicoHsmError(CODES[kind], message));
export type PicoHsmRecipient = InstanceType<typeof PicoHsmRecipient>;
export type PicoHsmIdentity = InstanceType<typeof PicoHsmIdentity>;
export type PicoHsmIdentityOptions = ReaderIdentityOptions;
