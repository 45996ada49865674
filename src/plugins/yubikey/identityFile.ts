/**
 * The text age-plugin-yubikey prints for identities: the identity block (`--generate`,
 * `--identity`; an age identity file) and the `--list` entries (an `age -R` recipients file).
 */
import { slotToUi } from '../../tokens/piv/constants.ts';
import { commentLines, keyBlock, type Comment } from '../kit/identityFile.ts';
import { encodeRecipient, encodeTagRecipient } from './recipient.ts';
import type { SlotKey } from './slotKey.ts';
import { PIN_POLICY_TEXT, TOUCH_POLICY_TEXT } from './strings.ts';
import { encodeStub } from './stub.ts';

/** RFC 2822 date as the reference prints certificate notBefore: `Sat, 28 Jan 2023 08:22:29 +0000`. */
export function rfc2822(d: Date | undefined): string {
  if (!d || Number.isNaN(d.getTime())) return 'Unknown';
  return d.toUTCString().replace(/GMT$/, '+0000');
}

/** The reference's labels, right-aligned to "Touch policy". */
const STYLE = { align: 'right' } as const;

function metadata(serial: number, key: SlotKey): Comment[] {
  return [
    ['Serial', `${serial}, Slot: ${slotToUi(key.slot)}`],
    ['Name', key.name],
    ['Created', rfc2822(key.created)],
    ['PIN policy', key.pinPolicy && key.pinPolicy !== 'default' ? PIN_POLICY_TEXT[key.pinPolicy] : 'Unknown'],
    ['Touch policy', key.touchPolicy && key.touchPolicy !== 'default' ? TOUCH_POLICY_TEXT[key.touchPolicy] : 'Unknown'],
  ];
}

export function stubOf(serial: number, key: SlotKey): string {
  return encodeStub({ serial, slot: key.slot, tag: key.tag });
}

/** The identity block: metadata comments, the recipient comment, the stub line. */
export function identityBlock(serial: number, key: SlotKey): string {
  return keyBlock([...metadata(serial, key), ['Recipient', encodeRecipient(key.publicKey)]], stubOf(serial, key), STYLE);
}

/** A `--list` entry: metadata comments, the recipient, a blank line. */
export function listEntry(serial: number, key: SlotKey, opts: { tag?: boolean } = {}): string {
  const lines = commentLines(metadata(serial, key), STYLE);
  if (opts.tag) lines.push(`#  age1tag (no plugin needed to encrypt): ${encodeTagRecipient(key.publicKey)}`);
  return [...lines, encodeRecipient(key.publicKey), ''].join('\n') + '\n';
}
