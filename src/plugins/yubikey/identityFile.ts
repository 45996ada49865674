/**
 * The text age-plugin-yubikey prints for identities: the identity block (`--generate`,
 * `--identity`; an age identity file) and the `--list` entries (an `age -R` recipients file).
 */
import { slotToUi } from '../../tokens/piv/constants.ts';
import { commentLines, keyBlock, type Comment } from '../kit/identityFile.ts';
import { encodeTagPqRecipient } from '../../age/pqKeys.ts';
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

/** The recipient a slot key is encrypted to: `age1tagpq1…` for a post-quantum key, else `age1yubikey1…`. */
export function recipientOf(key: Pick<SlotKey, 'publicKey' | 'pq'>): string {
  return key.pq ? encodeTagPqRecipient(key.pq.recipient) : encodeRecipient(key.publicKey);
}

/**
 * The native (no plugin needed to encrypt) recipient: `age1tag1…` for a classic key; a
 * post-quantum key's `age1tagpq1…` is native already. The classic form of a post-quantum key is
 * never offered: a file encrypted to it would not be post-quantum.
 */
export function nativeRecipientOf(key: Pick<SlotKey, 'publicKey' | 'pq'>): string {
  return key.pq ? encodeTagPqRecipient(key.pq.recipient) : encodeTagRecipient(key.publicKey);
}

export function stubOf(serial: number, key: SlotKey): string {
  return encodeStub({ serial, slot: key.slot, tag: key.tag });
}

/** The identity block: metadata comments, the recipient comment, the stub line. */
export function identityBlock(serial: number, key: SlotKey): string {
  return keyBlock([...metadata(serial, key), ['Recipient', recipientOf(key)]], stubOf(serial, key), STYLE);
}

/** A `--list` entry: metadata comments, the recipient, a blank line. */
export function listEntry(serial: number, key: SlotKey, opts: { tag?: boolean } = {}): string {
  const lines = commentLines([...metadata(serial, key), ...(key.pq ? ([['Type', 'post-quantum (ML-KEM-768 + P-256, mlkem768p256tag)']] as Comment[]) : [])], STYLE);
  if (opts.tag && !key.pq) lines.push(`#  age1tag (no plugin needed to encrypt): ${encodeTagRecipient(key.publicKey)}`);
  return [...lines, recipientOf(key), ''].join('\n') + '\n';
}
