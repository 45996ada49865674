/**
 * Key strings as they appear in secrets repos, turned into comparable age recipients: `age1…`
 * (X25519 and plugin recipients as written), `ssh-ed25519 AAAA… [comment]` through ssh-to-age,
 * `AGE-SECRET-KEY-1…` and `AGE-SECRET-KEY-PQ-1…` through their public keys (`age1…`, `age1pq1…`).
 */
import { identityToRecipient } from 'age-encryption';
import { sshPublicKeyToAgeRecipient } from '../ssh/lines.ts';

export function isAgeRecipient(s: string): boolean {
  return /^age1[02-9ac-hj-np-z]+$/.test(s) || /^age1[a-z0-9+\-._]+1[02-9ac-hj-np-z]+$/.test(s);
}

/** The age recipient a key string stands for, or null when it is not an age/ssh-ed25519 key. */
export function toRecipient(s: string): string | null {
  const t = s.trim();
  if (isAgeRecipient(t)) return t;
  if (t.startsWith('ssh-ed25519 ')) {
    try {
      return sshPublicKeyToAgeRecipient(t);
    } catch {
      return null;
    }
  }
  return null;
}

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

/** `ssh-ed25519 AAAA…` without the comment, for comparing SSH keys as written. */
export function stripComment(ssh: string): string {
  return ssh.trim().split(/\s+/).slice(0, 2).join(' ');
}

export function short(recipient: string): string {
  return recipient.length > 20 ? `${recipient.slice(0, 12)}…${recipient.slice(-6)}` : recipient;
}
