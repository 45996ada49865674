/**
 * In-process age recipients and identities for JavaScript programs using typage
 * (`age-encryption`): encrypt to `age1picohsm1…` and decrypt with a Pico HSM (picohsm, p256tag
 * and X25519 stanzas), with no plugin process — the kit's generic adapters over the Pico HSM
 * family.
 *
 *   const e = new Encrypter(); e.addRecipient(new PicoHsmRecipient('age1picohsm1…'));
 *   const d = new Decrypter(); d.addIdentity(new PicoHsmIdentity('AGE-PLUGIN-PICOHSM-1…', { readers, pin }));
 */
import type { CardReaders } from '../../transport/readers.ts';
import { TokenIdentity, TokenRecipient, type TokenIdentityOptions } from '../kit/typage.ts';
import { PicoHsmError } from './errors.ts';
import { picoHsmDevices, picoHsmFamily, type PicoHsmDevice } from './family.ts';
import type { PicoHsmIdentity as IdentityData } from './identity.ts';
import { S } from './strings.ts';
import type { ParsedStanza } from './unwrap.ts';

export class PicoHsmRecipient extends TokenRecipient<Uint8Array> {
  constructor(recipient: string) {
    super(picoHsmFamily({ readers: never }), recipient, () => new PicoHsmError('INVALID_RECIPIENT', S.invalidRecipient));
  }
  /** The 65-byte uncompressed P-256 point. */
  get publicKey(): Uint8Array {
    return this.recipient;
  }
}

export interface PicoHsmIdentityOptions extends TokenIdentityOptions {
  /** The reader system (stays open: the caller owns it). */
  readers: CardReaders;
}

const CODES = { identity: 'INVALID_IDENTITY', stanza: 'INVALID_STANZA', device: 'DEVICE', pin: 'DEVICE' } as const;

export class PicoHsmIdentity extends TokenIdentity<IdentityData, ParsedStanza, Uint8Array, PicoHsmDevice> {
  constructor(identity: string, opts: PicoHsmIdentityOptions) {
    const readers = opts.readers;
    super(
      picoHsmFamily({ readers: async () => readers }),
      identity,
      { ...opts, devices: () => picoHsmDevices(readers, async () => undefined) },
      (kind, message) => new PicoHsmError(CODES[kind], message),
    );
  }
}

async function never(): Promise<CardReaders> {
  throw new PicoHsmError('DEVICE', 'no Pico HSM is needed to encrypt');
}
