/**
 * recipient-v1 for YubiKeys (age-plugin-yubikey's RecipientPlugin): `age1yubikey1…` recipients
 * are wrapped to directly; identity stubs given as recipients (`age -e -i`) need the card, only to
 * read the slot's public key (no PIN). One `piv-p256` stanza per recipient and identity per file
 * key; a post-quantum identity gets an `mlkem768p256tag` stanza, labelled `postquantum`. Mixing
 * post-quantum and classic keys in one file is refused as Go age refuses it.
 */
import type { CardReaders } from '../../transport/readers.ts';
import { YubiKeyError } from './errors.ts';
import { wrapPivP256, type RawStanza } from './pivP256.ts';
import { decodeRecipient } from './recipient.ts';
import { wrapMlkem768P256Tag } from '../../age/mlkem768p256tag.ts';
import { labelMixError, POSTQUANTUM } from '../../age/labels.ts';
import { readSlotForStub } from './slotKey.ts';
import { S } from './strings.ts';
import { decodeStub } from './stub.ts';
import { openBySerial } from './devices.ts';
import type { UnwrapEnvironment, YubiKeyUi } from './ui.ts';

export type WrapError = { kind: 'recipient' | 'identity'; index: number; message: string } | { kind: 'internal'; message: string };

export interface WrapResult {
  /** stanzas[i] = stanzas for file key i; empty when errors is non-empty. */
  stanzas: RawStanza[][];
  errors: WrapError[];
  /** The label set of every stanza (`postquantum` for post-quantum keys). */
  labels: string[];
}

type WrapKey = { kind: 'classic'; publicKey: Uint8Array } | { kind: 'pq'; recipient: Uint8Array };

export async function wrapFileKeys(
  req: { recipients: string[]; identities: string[]; fileKeys: Uint8Array[]; ui: YubiKeyUi; readers?: CardReaders },
  env: UnwrapEnvironment = {},
): Promise<WrapResult> {
  const errors: WrapError[] = [];
  const keys: WrapKey[] = [];
  req.recipients.forEach((r, index) => {
    try {
      keys.push({ kind: 'classic', publicKey: decodeRecipient(r) });
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
      const slot = await readSlotForStub(yk.piv, stub.slot, stub.tag);
      if (!slot) throw new YubiKeyError('STUB_MISMATCH', S.stubMismatch);
      keys.push(slot.pq ? { kind: 'pq', recipient: slot.pq.recipient } : { kind: 'classic', publicKey: slot.publicKey });
    } catch (e) {
      errors.push({ kind: 'identity', index, message: e instanceof YubiKeyError ? e.message : S.openFailed(stub.serial) });
    } finally {
      await yk.close(true).catch(() => undefined);
    }
  }
  if (errors.length) return { stanzas: [], errors, labels: [] };
  const labelSets = keys.map((k) => (k.kind === 'pq' ? [POSTQUANTUM] : []));
  const mix = labelMixError(labelSets);
  if (mix) return { stanzas: [], errors: [{ kind: 'internal', message: mix }], labels: [] };
  const wrapOne = (fk: Uint8Array, k: WrapKey) => (k.kind === 'pq' ? wrapMlkem768P256Tag(fk, k.recipient) : wrapPivP256(fk, k.publicKey));
  return { stanzas: req.fileKeys.map((fk) => keys.map((k) => wrapOne(fk, k))), errors, labels: labelSets[0] ?? [] };
}
