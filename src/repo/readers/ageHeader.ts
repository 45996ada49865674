/**
 * The recipients an age file's header reveals (binary or ASCII-armored): `ssh-ed25519` and
 * `piv-p256` stanzas carry a 4-byte tag of the recipient's key; `X25519` stanzas are anonymous
 * and can only be counted (so are the post-quantum `mlkem768x25519` ones of `age1pq1…` recipients).
 */
import { base64nopad } from '@scure/base';
import { sha256 } from '@noble/hashes/sha2.js';
import { bech32 } from '@scure/base';
import { remember } from '../keyString.ts';

export interface AgeHeaderSummary {
  /** `ssh-ed25519:<tag>` and `piv-p256:<tag>` identifiers, in order. */
  tagged: string[];
  anonymous: number;
  other: string[];
}

function dearmor(bytes: Uint8Array): Uint8Array {
  const text = Buffer.from(bytes.subarray(0, 64)).toString('latin1');
  if (!text.startsWith('-----BEGIN AGE ENCRYPTED FILE-----')) return bytes;
  const body = Buffer.from(bytes).toString('latin1').split('\n').filter((l) => l && !l.startsWith('-----')).join('');
  return new Uint8Array(Buffer.from(body, 'base64'));
}

const ARMOR = Buffer.from('-----BEGIN AGE ENCRYPTED FILE-----', 'latin1');
const VERSION = Buffer.from('age-encryption.org/v1\n', 'latin1');
const HEADER_SCAN = 1 << 20;

/**
 * Whether the first bytes of a file (`head`) decide what readAgeHeader says of the whole file:
 * a binary file's header has ended (a `---` line), is no age header, or reaches the 1 MiB that
 * readAgeHeader reads. An armored file is read whole.
 */
export function ageHeaderRead(head: Uint8Array): boolean {
  const b = Buffer.isBuffer(head) ? head : Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length < ARMOR.length || b.subarray(0, ARMOR.length).equals(ARMOR)) return false;
  if (!b.subarray(0, VERSION.length).equals(VERSION)) return true;
  return b.length >= HEADER_SCAN || b.indexOf('\n---', 0, 'latin1') >= 0;
}

/** The header summary of an age file (binary or armored); null when it is not an age file. */
export function readAgeHeader(input: Uint8Array): AgeHeaderSummary | null {
  const bytes = dearmor(input);
  const end = Math.min(bytes.length, HEADER_SCAN);
  const text = Buffer.from(bytes.subarray(0, end)).toString('latin1');
  if (!text.startsWith('age-encryption.org/v1\n')) return null;
  const out: AgeHeaderSummary = { tagged: [], anonymous: 0, other: [] };
  for (const line of text.split('\n').slice(1)) {
    if (line.startsWith('---')) break;
    if (!line.startsWith('-> ')) continue;
    const [type, ...args] = line.slice(3).split(' ');
    if ((type === 'ssh-ed25519' || type === 'piv-p256') && args[0]) out.tagged.push(`${type}:${args[0]}`);
    else if (type === 'X25519' || type === 'mlkem768x25519') out.anonymous++; // age1… and age1pq1… recipients: not named by the header
    else out.other.push(type ?? '');
  }
  return out;
}

/** The header identifier a recipient produces, or 'anonymous' for X25519, or null if unknown. */
export function recipientHeaderId(recipient: string): string | 'anonymous' | null {
  return remember(headerIds, recipient.trim(), headerId);
}

const headerIds = new Map<string, string | null>();

function headerId(r: string): string | 'anonymous' | null {
  if (r.startsWith('ssh-ed25519 ')) {
    const blob = Buffer.from(r.split(/\s+/)[1] ?? '', 'base64');
    return `ssh-ed25519:${base64nopad.encode(sha256(blob).subarray(0, 4))}`;
  }
  if (r.startsWith('age1yubikey1')) {
    const data = bech32.fromWords(bech32.decode(r as `${string}1${string}`, false).words);
    return `piv-p256:${base64nopad.encode(sha256(data).subarray(0, 4))}`;
  }
  if (/^age1[02-9ac-hj-np-z]{58}$/.test(r) || /^age1pq1[02-9ac-hj-np-z]+$/.test(r)) return 'anonymous';
  return null;
}
