/**
 * Key strings as they appear in secrets repos, checked and turned into comparable age recipients:
 * `age1…` (X25519: Bech32 with a 32-byte payload; `age1pq1…` 1216 bytes; `age1tag1…` 33;
 * `age1tagpq1…` 1249; other `age1NAME1…` plugin recipients: valid Bech32), `ssh-ed25519 AAAA…
 * [comment]` through ssh-to-age, `AGE-SECRET-KEY-1…` / `AGE-SECRET-KEY-PQ-1…` through their public
 * key. Abbreviations for messages keep distinct keys distinct.
 */
import { identityToRecipient } from 'age-encryption';
import { bech32 } from '@scure/base';
import { sshPublicKeyToAgeRecipient } from '../ssh/lines.ts';

export type KeyKind = 'x25519' | 'pq' | 'tag' | 'tagpq' | 'plugin' | 'ssh-ed25519' | 'ssh-rsa' | 'ssh-other';

export interface KeyCheck {
  kind: KeyKind | 'invalid';
  /** Why it is invalid (short, no echo of the input). */
  reason?: string;
  /** Post-quantum (age1pq1…, age1tagpq1…): cannot be mixed with classic recipients in one file. */
  pq?: boolean;
  /** Plugin name for plugin recipients (`age1yubikey1…` → yubikey). */
  plugin?: string;
}

/** Looked up by a prefix read from input: a Map, so no name reaches Object.prototype. */
const PAYLOAD = new Map<string, { kind: KeyKind; bytes: number; pq: boolean }>([
  ['age', { kind: 'x25519', bytes: 32, pq: false }],
  ['age1pq', { kind: 'pq', bytes: 1216, pq: true }],
  ['age1tag', { kind: 'tag', bytes: 33, pq: false }],
  ['age1tagpq', { kind: 'tagpq', bytes: 1249, pq: true }],
]);

const checkCache = new Map<string, KeyCheck>();

/** Classifies a recipient string; `invalid` with a reason for bad checksums, lengths and shapes. */
export function checkRecipient(raw: string): KeyCheck {
  const s = raw.trim();
  if (s.length > 4096) return { kind: 'invalid', reason: `${s.length} characters: far longer than any recipient` };
  return remember(checkCache, s, classify);
}

function classify(s: string): KeyCheck {
  if (s.startsWith('ssh-')) {
    const type = s.split(/\s+/)[0]!;
    if (type === 'ssh-ed25519') {
      try {
        sshPublicKeyToAgeRecipient(s);
        return { kind: 'ssh-ed25519' };
      } catch (e) {
        return { kind: 'invalid', reason: `not a valid ssh-ed25519 key (${(e as Error).message.slice(0, 80)})` };
      }
    }
    return { kind: type === 'ssh-rsa' ? 'ssh-rsa' : 'ssh-other' };
  }
  if (!/^age1/i.test(s)) return { kind: 'invalid', reason: 'not an age recipient (age1…) or SSH public key' };
  if (s !== s.toLowerCase()) return { kind: 'invalid', reason: 'age recipients are lowercase' };
  const sep = s.lastIndexOf('1');
  const hrp = s.slice(0, sep);
  let bytes: Uint8Array;
  try {
    bytes = bech32.fromWords(bech32.decode(s as `${string}1${string}`, false).words);
  } catch (e) {
    const m = (e as Error).message;
    return { kind: 'invalid', reason: /checksum/i.test(m) ? 'bad Bech32 checksum (a typo?)' : /padding|non-zero/i.test(m) ? 'bad Bech32 padding (wrong length?)' : `not valid Bech32 (${m.slice(0, 60)})` };
  }
  const known = PAYLOAD.get(hrp);
  if (known) {
    if (bytes.length !== known.bytes) return { kind: 'invalid', reason: `${hrp === 'age' ? 'an X25519 recipient' : hrp + '1…'} holds ${known.bytes} bytes, this one ${bytes.length} (truncated or padded?)` };
    return { kind: known.kind, pq: known.pq };
  }
  const name = hrp.slice(4);
  if (!/^[a-z0-9+\-._]+$/.test(name)) return { kind: 'invalid', reason: 'invalid plugin name' };
  return { kind: 'plugin', plugin: name, pq: false };
}

export function isAgeRecipient(s: string): boolean {
  const c = checkRecipient(s);
  return c.kind !== 'invalid' && !c.kind.startsWith('ssh');
}

/** The age recipient a key string stands for, or null when it is not a valid age/ssh-ed25519 key. */
export function toRecipient(s: string): string | null {
  const t = s.trim();
  const c = checkRecipient(t);
  if (c.kind === 'invalid') return null;
  if (c.kind === 'ssh-ed25519') return remember(sshRecipients, t, sshPublicKeyToAgeRecipient);
  if (c.kind.startsWith('ssh')) return null;
  return t;
}

const sshRecipients = new Map<string, string>();

/** `compute(key)` once per distinct key string (the map is emptied when it grows past 100,000). */
export function remember<T>(cache: Map<string, T>, key: string, compute: (key: string) => T): T {
  let v = cache.get(key);
  if (v === undefined && !cache.has(key)) {
    if (cache.size > 100_000) cache.clear();
    v = compute(key);
    cache.set(key, v);
  }
  return v as T;
}

/** The public key of an `AGE-SECRET-KEY-1…` or `AGE-SECRET-KEY-PQ-1…` identity (ML-KEM-768 for PQ). */
export async function secretKeyToRecipient(s: string): Promise<string | null> {
  if (s.trim().toUpperCase().startsWith('AGE-SECRET-KEY-PQ-1')) {
    // ML-KEM is loaded only when a post-quantum key is read.
    const pq = (await import('../age/pqKeys.ts')).classifyPqKey(s);
    return pq && 'recipient' in pq && pq.kind === 'hybrid-identity' ? pq.recipient : null;
  }
  try {
    return await identityToRecipient(s.trim());
  } catch {
    return null;
  }
}

const WHITESPACE = /\s/;

/** `ssh-ed25519 AAAA…` without the comment, for comparing SSH keys as written. */
export function stripComment(ssh: string): string {
  if (!WHITESPACE.test(ssh)) return ssh; // an age1… key: nothing to strip (no split, no copy)
  return ssh.trim().split(/\s+/).slice(0, 2).join(' ');
}

/** A short form for tables and messages: `age1abcdefgh…uvwxyz`, `ssh-ed25519 …QUaBH`. */
export function short(key: string, prefix = 12, suffix = 6): string {
  const k = stripComment(key);
  if (k.startsWith('ssh-')) {
    const [type, blob = ''] = k.split(' ');
    // Every ed25519 blob starts with the same 25 characters: show the end.
    return blob.length > suffix + 8 ? `${type} …${blob.slice(-(suffix + 4))}` : k;
  }
  return k.length > prefix + suffix + 2 ? `${k.slice(0, prefix)}…${k.slice(-suffix)}` : k;
}

/**
 * Abbreviations for a set of keys that stay distinct: where two would look equal, the differing
 * part is shown (`age1qyqszqgp…{xyz}…h7u9mr`).
 */
export function abbreviations(keys: Iterable<string>): Map<string, string> {
  const raw = [...new Set(keys)];
  const list = [...new Set(raw.map(stripComment))];
  const byStripped = new Map<string, string>();
  const byShort = new Map<string, string[]>();
  for (const k of list) {
    const s = short(k);
    (byShort.get(s) ?? byShort.set(s, []).get(s)!).push(k);
  }
  for (const [s, group] of byShort) {
    if (group.length === 1) {
      byStripped.set(group[0]!, s);
      continue;
    }
    for (const k of group) {
      // Show a window around the first position where k differs from any other in the group.
      let first = k.length;
      for (const o of group) {
        if (o === k) continue;
        let i = 0;
        while (i < k.length && k[i] === o[i]) i++;
        first = Math.min(first, i);
      }
      const a = Math.max(0, first - 2);
      const b = Math.min(k.length, first + 6);
      const head = k.startsWith('ssh-') ? `${k.split(' ')[0]} ` : k.slice(0, Math.min(12, a));
      byStripped.set(k, `${head}…${k.slice(a, b)}…${k.slice(-6)}`);
    }
  }
  return new Map(raw.map((r) => [r, byStripped.get(stripComment(r))!]));
}

/** Abbreviates each key in `keys` so that none looks like another in the same message. */
export function shortAll(keys: string[]): string[] {
  const m = abbreviations(keys);
  return keys.map((k) => m.get(k)!);
}

/** A bounded, printable excerpt of input for error messages. */
export function excerpt(s: string, max = 60): string {
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return JSON.stringify(clean.length > max ? clean.slice(0, max) + '…' : clean);
}
