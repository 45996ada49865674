/**
 * `age-plugin-yubikey` with no command: the guided setup of the reference, with numbered choices
 * instead of arrow-key menus (so it also works from a script: one answer per line on stdin when
 * there is no terminal). Pick a YubiKey and a slot, reuse its identity or generate one with a
 * name and policies, and write `age-yubikey-identity-<tag>.txt`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Io } from '../../term/io.ts';
import { openPrompter, type Prompter } from '../../term/prompt.ts';
import { RETIRED_SLOTS, slotToUi } from '../../tokens/piv/constants.ts';
import type { CardReaders } from '../../transport/readers.ts';
import { writeIdentityFile } from '../kit/identityFile.ts';
import { openAll, type YubiKey } from './devices.ts';
import { YubiKeyError } from './errors.ts';
import { generateIdentity } from './generate.ts';
import { identityBlock, rfc2822 } from './identityFile.ts';
import { encodeRecipient } from './recipient.ts';
import { readSlotKey, type SlotKey } from './slotKey.ts';
import { PIN_POLICY_TEXT, TOUCH_POLICY_TEXT, S } from './strings.ts';
import { BINARY } from './about.ts';

async function choose(p: Prompter, title: string, items: string[], def: number): Promise<number> {
  p.say(title);
  items.forEach((it, i) => p.say(`  [${i + 1}] ${it}`));
  for (;;) {
    const a = (await p.line(`Choice [${def + 1}]`)).trim();
    if (a === '') return def;
    const n = Number(a);
    if (Number.isInteger(n) && n >= 1 && n <= items.length) return n - 1;
    p.say(`Please answer a number from 1 to ${items.length}.`);
  }
}

async function yes(p: Prompter, q: string): Promise<boolean> {
  const a = (await p.line(`${q} [y/N]`)).trim().toLowerCase();
  return a === 'y' || a === 'yes';
}

export async function runSetup(io: Io, readers: CardReaders, opts: { force?: boolean; name?: string }): Promise<number> {
  const p = openPrompter(io.stdin as never, io.stderr);
  const say = (l: string) => p.say(l);
  let yubikeys: YubiKey[] = [];
  try {
    say("✨ Let's get your YubiKey set up for age! ✨");
    say('');
    say('This tool can create a new age identity in a free slot of your YubiKey.');
    say('It will generate an identity file that you can use with an age client,');
    say('along with the corresponding recipient. You can also do this directly with:');
    say(`    ${BINARY} --generate`);
    say('');
    yubikeys = await openAll(readers);
    if (yubikeys.length === 0) throw new YubiKeyError('NOT_FOUND', `${S.noYubiKey}, then run ${BINARY} again.`);
    const yk = yubikeys[await choose(p, '🔑 Select a YubiKey:', yubikeys.map((y) => `${y.reader} (Serial: ${y.serial})`), 0)]!;

    const slots: (SlotKey | null | 'unusable')[] = [];
    for (const slot of RETIRED_SLOTS) {
      const key = await readSlotKey(yk.piv, slot);
      slots.push(key ?? ((await yk.piv.getCertificate(slot)) ? 'unusable' : null));
    }
    const labels = slots.map((k, i) => `Slot ${i + 1} (${k === null ? 'Empty' : k === 'unusable' ? 'Unusable' : `${k.name}, created: ${rfc2822(k.created)}`})`);
    const firstEmpty = Math.max(0, slots.indexOf(null));
    let index: number;
    for (;;) {
      index = await choose(p, '🕳️  Select a slot for your age identity:', labels, firstEmpty);
      if (slots[index] !== 'unusable') break;
      say('That slot holds a key age cannot use; choose another.');
    }
    const existing = slots[index];
    let key: SlotKey;
    if (existing && existing !== 'unusable') {
      if (!(await yes(p, `Use existing identity in slot ${index + 1}?`))) return 0;
      key = existing;
    } else {
      const name = opts.name ?? ((await p.line(S.namePrompt)).trim() || undefined);
      const pin = (['always', 'once', 'never'] as const)[await choose(p, '🔤 Select a PIN policy:', [PIN_POLICY_TEXT.always, PIN_POLICY_TEXT.once, PIN_POLICY_TEXT.never], 1)]!;
      const touch = (['always', 'cached', 'never'] as const)[await choose(p, '👆 Select a touch policy:', [TOUCH_POLICY_TEXT.always, TOUCH_POLICY_TEXT.cached, TOUCH_POLICY_TEXT.never], 0)]!;
      if (!(await yes(p, `Generate new identity in slot ${index + 1}?`))) return 0;
      say('');
      ({ key } = await generateIdentity(yk, { slot: RETIRED_SLOTS[index]!, pinPolicy: pin, touchPolicy: touch, force: opts.force ?? false, ...(name ? { name } : {}) }, p, say));
    }
    const file = `age-yubikey-identity-${Buffer.from(key.tag).toString('hex')}.txt`;
    const path = join(io.cwd, file);
    say('');
    if (existsSync(path) && !(await yes(p, `${file} exists. Overwrite it?`))) {
      await new Promise<void>((r) => io.stdout.write(identityBlock(yk.serial, key), () => r()));
    } else {
      await writeIdentityFile(path, identityBlock(yk.serial, key));
      say(`📝 Wrote the identity file ${file}`);
    }
    say('');
    say("✅ Done! This YubiKey identity is ready to go.");
    say('');
    say("🔑 Here's your shiny new YubiKey recipient:");
    say(`  ${encodeRecipient(key.publicKey)}`);
    say('');
    say('Here are some example things you can do with it:');
    say(`- Encrypt a file to this identity:\n  $ cat foo.txt | age -r ${encodeRecipient(key.publicKey)} -o foo.txt.age`);
    say(`- Decrypt a file with this identity:\n  $ cat foo.txt.age | age -d -i ${file} > foo.txt`);
    say(`- Recreate the identity file:\n  $ ${BINARY} -i --serial ${yk.serial} --slot ${slotToUi(key.slot)} > ${file}`);
    say(`- Recreate the recipient:\n  $ ${BINARY} -l --serial ${yk.serial} --slot ${slotToUi(key.slot)}`);
    return 0;
  } finally {
    p.close();
    for (const y of yubikeys) await y.close(true).catch(() => undefined);
  }
}
