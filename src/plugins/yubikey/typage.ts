/**
 * In-process age recipients and identities for JavaScript programs using typage
 * (`age-encryption`): encrypt to `age1yubikey1…` and decrypt with a YubiKey, with no plugin
 * process.
 *
 *   const e = new Encrypter(); e.addRecipient(new YubiKeyRecipient('age1yubikey1…'));
 *   const d = new Decrypter(); d.addIdentity(new YubiKeyIdentity('AGE-PLUGIN-YUBIKEY-1…', { readers, pin }));
 */
import { Stanza, type Identity, type Recipient } from 'age-encryption';
import type { CardReaders } from '../../transport/readers.ts';
import { YubiKeyError } from './errors.ts';
import { wrapPivP256 } from './pivP256.ts';
import { decodeRecipient } from './recipient.ts';
import type { YubiKeyUi } from './ui.ts';
import { unwrapFiles } from './unwrap.ts';
import { decodeStub } from './stub.ts';

export class YubiKeyRecipient implements Recipient {
  readonly publicKey: Uint8Array;
  constructor(recipient: string) {
    this.publicKey = decodeRecipient(recipient);
  }
  wrapFileKey(fileKey: Uint8Array): Stanza[] {
    const s = wrapPivP256(fileKey, this.publicKey);
    return [new Stanza([s.type, ...s.args], s.body)];
  }
}

export interface YubiKeyIdentityOptions {
  readers: CardReaders;
  /** Supplies the PIN when the slot's policy requires it; reject to decline. */
  pin?: (prompt: string) => Promise<string>;
  /** Receives messages such as "Touch your YubiKey". */
  message?: (text: string) => void;
  /** Skip (return null) instead of failing when the YubiKey is not plugged in. */
  skipNotFound?: boolean;
}

export class YubiKeyIdentity implements Identity {
  private readonly stub: string;
  constructor(
    identity: string,
    private readonly opts: YubiKeyIdentityOptions,
  ) {
    decodeStub(identity);
    this.stub = identity;
  }

  async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
    const ui: YubiKeyUi = {
      message: async (t) => this.opts.message?.(t),
      confirm: async () => {
        throw new YubiKeyError('NOT_FOUND', 'YubiKey not plugged in');
      },
      requestSecret: async (p) => {
        if (!this.opts.pin) throw new YubiKeyError('PIN_REQUIRED', 'A PIN is required');
        return this.opts.pin(p);
      },
    };
    const files = [stanzas.map((s) => ({ type: s.args[0] ?? '', args: s.args.slice(1), body: s.body }))];
    const r = await unwrapFiles({ identities: [this.stub], files, ui, readers: this.opts.readers }, { skipNotFound: this.opts.skipNotFound ?? false, interactive: true });
    const key = r.fileKeys.get(0);
    if (key) return key;
    const err = r.errors[0];
    if (err) throw new YubiKeyError(err.kind === 'stanza' ? 'INVALID_STANZA' : 'CARD', err.message);
    return null;
  }
}
