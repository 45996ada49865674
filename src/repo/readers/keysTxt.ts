/**
 * A workstation `keys.txt` (sops/age identity file): `AGE-SECRET-KEY-1…` and post-quantum
 * `AGE-SECRET-KEY-PQ-1…` lines (public key derived from each), `# public key: age1…` comments, and plugin identities (`AGE-PLUGIN-…`) known by their
 * `# recipient:` / `#    Recipient:` comment.
 */
import { secretKeyToRecipient } from '../keyString.ts';

export interface KeysTxtEntry {
  line: number;
  kind: 'secret' | 'plugin';
  /** The public key (derived for secret keys; from the comment for plugin identities). */
  recipient: string | null;
  /** A `# public key:` comment that disagrees with the derived key. */
  commentMismatch?: string;
  /** The Bitwarden item named by a `# keybridge: Bitwarden item NAME` marker above it. */
  item?: string;
}

export async function readKeysTxt(text: string): Promise<KeysTxtEntry[]> {
  const out: KeysTxtEntry[] = [];
  let comment: string | null = null;
  let item: string | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    const marker = /^# keybridge: Bitwarden item (\S+)/.exec(l);
    if (marker) {
      item = marker[1]!;
      continue;
    }
    const c = /^#\s*(?:public key|recipient):\s*(age1\S+)/i.exec(l);
    if (c) {
      comment = c[1]!;
      continue;
    }
    if (l.startsWith('AGE-SECRET-KEY-1') || l.startsWith('AGE-SECRET-KEY-PQ-1')) {
      const recipient = await secretKeyToRecipient(l);
      out.push({ line: i + 1, kind: 'secret', recipient, ...(comment && recipient && comment !== recipient ? { commentMismatch: comment } : {}), ...(item ? { item } : {}) });
      comment = null;
      item = null;
    } else if (l.startsWith('AGE-PLUGIN-')) {
      out.push({ line: i + 1, kind: 'plugin', recipient: comment, ...(item ? { item } : {}) });
      comment = null;
      item = null;
    } else if (l && !l.startsWith('#')) {
      comment = null;
      item = null;
    }
  }
  return out;
}
