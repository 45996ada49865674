/**
 * A workstation `keys.txt` (sops/age identity file): `AGE-SECRET-KEY-1…` and
 * `AGE-SECRET-KEY-PQ-1…` lines (public key derived from each; ML-KEM-768 for the post-quantum
 * ones), `# public key: age1…` comments, and plugin identities (`AGE-PLUGIN-…`) known by their
 * `# recipient:` / `#    Recipient:` comment, which clan requires. Lines sops cannot read are
 * reported by number (never echoed: they may hold secrets).
 */
import { secretKeyToRecipient } from '../keyString.ts';

export interface KeysTxtEntry {
  line: number;
  kind: 'secret' | 'pq-secret' | 'plugin' | 'invalid';
  /** The public key (derived for secret keys; from the comment for plugin identities). */
  recipient: string | null;
  /** A `# public key:` comment that disagrees with the derived key. */
  commentMismatch?: string;
  /** The Bitwarden item named by a `# keybridge: Bitwarden item NAME` marker above it. */
  item?: string;
  /** Plugin name of an `AGE-PLUGIN-NAME-1…` identity (lowercase). */
  plugin?: string;
  /** Why an `invalid` line cannot be used. */
  reason?: string;
}

export const MAX_KEYS_TXT_LINES = 100_000;

export async function readKeysTxt(text: string): Promise<KeysTxtEntry[]> {
  const out: KeysTxtEntry[] = [];
  let comment: string | null = null;
  let item: string | null = null;
  const lines = text.split('\n');
  if (lines.length > MAX_KEYS_TXT_LINES) throw new Error(`has more than ${MAX_KEYS_TXT_LINES} lines`);
  const reset = () => {
    comment = null;
    item = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    const marker = /^# keybridge: Bitwarden item (\S{1,200})/.exec(l);
    if (marker) {
      item = marker[1]!;
      continue;
    }
    const c = /^#\s*(?:public key|recipient):\s*(age1\S+)/i.exec(l);
    if (c) {
      comment = c[1]!;
      continue;
    }
    const extra = { ...(item ? { item } : {}) };
    if (l.startsWith('AGE-SECRET-KEY-PQ-1') || l.startsWith('AGE-SECRET-KEY-1')) {
      const pq = l.startsWith('AGE-SECRET-KEY-PQ-1');
      const recipient = await secretKeyToRecipient(l);
      if (!recipient) out.push({ line: i + 1, kind: 'invalid', recipient: null, reason: `not a valid ${pq ? 'post-quantum ' : ''}age secret key (bad checksum or length)`, ...extra });
      else out.push({ line: i + 1, kind: pq ? 'pq-secret' : 'secret', recipient, ...(comment && comment !== recipient ? { commentMismatch: comment } : {}), ...extra });
      reset();
    } else if (l.startsWith('AGE-PLUGIN-')) {
      const m = /^AGE-PLUGIN-([A-Z0-9+\-._]+)-1[02-9AC-HJ-NP-Z]+$/.exec(l);
      if (!m) out.push({ line: i + 1, kind: 'invalid', recipient: null, reason: 'not a valid plugin identity (AGE-PLUGIN-NAME-1…)', ...extra });
      else out.push({ line: i + 1, kind: 'plugin', recipient: comment, plugin: m[1]!.toLowerCase(), ...extra });
      reset();
    } else if (l && !l.startsWith('#')) {
      out.push({ line: i + 1, kind: 'invalid', recipient: null, reason: 'not an identity sops or age can read (sops fails with "unknown identity type")' });
      reset();
    }
  }
  return out;
}
