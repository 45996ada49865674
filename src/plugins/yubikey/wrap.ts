/**
 * recipient-v1 for YubiKeys (age-plugin-yubikey's RecipientPlugin): `age1yubikey1…` recipients
 * are wrapped to directly; identity stubs given as recipients (`age -e -i`) need the card, only to
 * read the slot's public key (no PIN). One `piv-p256` stanza per recipient and identity per file key.
 */
import type { CardReaders } from '../../transport/readers.ts';
import { YubiKeyError } from './errors.ts';
import { wrapPivP256, tagsEqual, type RawStanza } from './pivP256.ts';
import { decodeRecipient } from './recipient.ts';
import { readSlotForDecryption } from './slotKey.ts';
import { S } from './strings.ts';
import { decodeStub } from './stub.ts';
import { openBySerial } from './devices.ts';
import type { UnwrapEnvironment, YubiKeyUi } from './ui.ts';

export type WrapError = { kind: 'recipient' | 'identity'; index: number; message: string } | { kind: 'internal'; message: string };

export interface WrapResult {
  /** stanzas[i] = stanzas for file key i; empty when errors is non-empty. */
  stanzas: RawStanza[][];
  errors: WrapError[];
}

export async function wrapFileKeys(
  req: { recipients: string[]; identities: string[]; fileKeys: Uint8Array[]; ui: YubiKeyUi; readers?: CardReaders },
  env: UnwrapEnvironment = {},
): Promise<WrapResult> {
  const errors: WrapError[] = [];
  const keys: Uint8Array[] = [];
  req.recipients.forEach((r, index) => {
    try {
      keys.push(decodeRecipient(r));
    } catch {
      errors.push({ kind: 'recipient', index, message: S.invalidRecipient });
    }
  });
  for (const [index, s] of req.identities.entries()) {
    let stub;
    try {
      stub = decodeStub(s);
    } catch {
      errors.push({ kind: 'identity', index, message: S.invalidStub });
      continue;
    }
    const yk = req.readers ? await openBySerial(req.readers, stub.serial, env.log ? { log: env.log } : {}).catch(() => null) : null;
    if (!yk) {
      errors.push({ kind: 'identity', index, message: S.openFailed(stub.serial) });
      continue;
    }
    try {
      const slot = await readSlotForDecryption(yk.piv, stub.slot);
      if (!slot || !tagsEqual(slot.tag, stub.tag)) throw new YubiKeyError('STUB_MISMATCH', S.stubMismatch);
      keys.push(slot.publicKey);
    } catch (e) {
      errors.push({ kind: 'identity', index, message: e instanceof YubiKeyError ? e.message : S.openFailed(stub.serial) });
    } finally {
      await yk.close(true).catch(() => undefined);
    }
  }
  if (errors.length) return { stanzas: [], errors };
  return { stanzas: req.fileKeys.map((fk) => keys.map((pk) => wrapPivP256(fk, pk))), errors };
}
