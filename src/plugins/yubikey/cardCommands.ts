/**
 * The card-touching commands of age-plugin-yubikey (--generate, --identity, --list, --list-all),
 * loaded only when one of them runs so the plugin's start path stays small.
 */
import type { Io } from '../../term/io.ts';
import { write } from '../../term/io.ts';
import { openPrompter } from '../../term/prompt.ts';
import { RETIRED_SLOTS, slotToUi, type PinPolicy, type TouchPolicy } from '../../tokens/piv/constants.ts';
import type { CardReaders } from '../../transport/readers.ts';
import { jsonText } from '../kit/identityFile.ts';
import { openAll, openOne } from './devices.ts';
import { YubiKeyError } from './errors.ts';
import { generateIdentity } from './generate.ts';
import { identityBlock, listEntry, nativeRecipientOf, recipientOf, stubOf } from './identityFile.ts';
import { readSlotKey, type SlotKey } from './slotKey.ts';
import { S } from './strings.ts';
import { BINARY } from './about.ts';

export interface CardCommandOptions {
  generate: boolean;
  identity: boolean;
  listAll: boolean;
  force: boolean;
  tag: boolean;
  json: boolean;
  /** With generate: a post-quantum (mlkem768p256tag) key. */
  pq?: boolean;
  name?: string;
  slot: number | undefined;
  serial: number | undefined;
  pinPolicy: Exclude<PinPolicy, 'default'>;
  touchPolicy: Exclude<TouchPolicy, 'default'>;
}

function keyJson(serial: number, key: SlotKey) {
  return {
    serial,
    slot: slotToUi(key.slot),
    name: key.name,
    created: key.created ? key.created.toISOString() : null,
    pinPolicy: key.pinPolicy ?? null,
    touchPolicy: key.touchPolicy ?? null,
    ours: key.ours,
    postQuantum: Boolean(key.pq),
    recipient: recipientOf(key),
    tagRecipient: nativeRecipientOf(key),
    identity: stubOf(serial, key),
  };
}

export async function runCardCommand(opts: CardCommandOptions, io: Io, readers: CardReaders): Promise<number> {
  const err = (line: string) => io.stderr.write(line + '\n');
  const { slot, serial, pinPolicy, touchPolicy } = opts;
  if (opts.generate) {
    const yk = await openOne(readers, serial);
    const prompter = openPrompter(io.stdin as never, io.stderr);
    let leaveCard = true;
    try {
      const genOpts = { pinPolicy, touchPolicy, force: opts.force, pq: opts.pq, ...(slot !== undefined ? { slot } : {}), ...(opts.name !== undefined ? { name: opts.name } : {}) };
      const { key } = await generateIdentity(yk, genOpts, prompter, err);
      leaveCard = false; // reset the card so PIN and touch caches are cleared, like the reference
      err('');
      if (opts.json) await write(io.stdout, jsonText(keyJson(yk.serial, key)));
      else await write(io.stdout, identityBlock(yk.serial, key));
      if (!(io.stdout as { isTTY?: boolean }).isTTY) err(`Recipient: ${recipientOf(key)}`);
      if (key.pq) err('Post-quantum key: Go age >= 1.3, rage >= 0.12 and typage encrypt to its age1tagpq1 recipient without any plugin.');
      else err(`age1tag recipient (encrypt without any plugin, Go age >= 1.3): ${nativeRecipientOf(key)}`);
    } finally {
      prompter.close();
      await yk.close(leaveCard).catch(() => undefined);
    }
    return 0;
  }

  if (opts.identity) {
    const yk = await openOne(readers, serial);
    try {
      const keys: SlotKey[] = [];
      for (const s of slot !== undefined ? [slot] : RETIRED_SLOTS) {
        const key = await readSlotKey(yk.piv, s);
        if (key && (slot !== undefined || key.ours)) keys.push(key);
      }
      if (slot !== undefined && keys.length === 0) throw new YubiKeyError('SLOT_NOT_AGE', S.slotNotAge(slotToUi(slot)));
      if (keys.length === 0) throw new YubiKeyError('SLOT_NOT_AGE', `YubiKey with serial ${yk.serial} holds no age identities; create one with '${BINARY} --generate'.`);
      if (opts.json) await write(io.stdout, jsonText(keys.map((k) => keyJson(yk.serial, k))));
      else await write(io.stdout, keys.map((k) => identityBlock(yk.serial, k)).join('\n'));
    } finally {
      await yk.close(true).catch(() => undefined);
    }
    return 0;
  }

  // --list / --list-all
  const yubikeys = serial !== undefined ? [await openOne(readers, serial)] : await openAll(readers);
  const all = opts.listAll;
  const entries: { serial: number; key: SlotKey }[] = [];
  let out = '';
  try {
    for (const yk of yubikeys) {
      for (const s of slot !== undefined ? [slot] : RETIRED_SLOTS) {
        const key = await readSlotKey(yk.piv, s);
        if (!key || (!all && !key.ours)) continue;
        entries.push({ serial: yk.serial, key });
        out += opts.tag ? listEntry(yk.serial, key).replace(recipientOf(key), nativeRecipientOf(key)) : listEntry(yk.serial, key);
      }
      out += '\n';
    }
  } finally {
    for (const yk of yubikeys) await yk.close(true).catch(() => undefined);
  }
  if (opts.json) await write(io.stdout, jsonText(entries.map((e) => keyJson(e.serial, e.key))));
  else await write(io.stdout, out);
  if (entries.length > 1 && !opts.json) err(S.generateSlots(entries.length));
  return 0;
}
