/**
 * Merging Bitwarden-derived identities into a workstation `keys.txt` without losing anything:
 * identities keybridge wrote are marked with a `# keybridge: Bitwarden item NAME` comment and are
 * replaced in place; everything else in the file is kept verbatim; new items are appended. The
 * plan can be shown without secrets (public keys only).
 */
import { identityToRecipient } from 'age-encryption';

export interface SyncEntry {
  item: string;
  identity: string;
  recipient: string;
}

export interface SyncPlan {
  text: string;
  changes: { item: string; action: 'add' | 'replace' | 'unchanged' | 'present'; recipient: string; previous?: string }[];
}

const MARK = /^# keybridge: Bitwarden item (.+)$/;

interface Block {
  item?: string;
  lines: string[];
}

function blocks(text: string): Block[] {
  const lines = text.length ? text.replace(/\n$/, '').split('\n') : [];
  const out: Block[] = [];
  let cur: Block | null = null;
  for (const l of lines) {
    const m = MARK.exec(l);
    if (m) {
      cur = { item: m[1]!, lines: [l] };
      out.push(cur);
      continue;
    }
    if (cur?.item && (l.startsWith('#') || l.startsWith('AGE-SECRET-KEY-1')) && !cur.lines.some((x) => x.startsWith('AGE-SECRET-KEY-1'))) {
      cur.lines.push(l);
      continue;
    }
    cur = null;
    const last = out[out.length - 1];
    if (last && !last.item) last.lines.push(l);
    else out.push({ lines: [l] });
  }
  return out;
}

function block(e: SyncEntry, date: string): Block {
  return { item: e.item, lines: [`# keybridge: Bitwarden item ${e.item}`, `# created: ${date}`, `# public key: ${e.recipient}`, e.identity] };
}

export async function planSync(existing: string, entries: SyncEntry[], now = new Date()): Promise<SyncPlan> {
  const date = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const bs = blocks(existing);
  const changes: SyncPlan['changes'] = [];
  const foreignKeys = new Set(bs.filter((b) => !b.item).flatMap((b) => b.lines.filter((l) => l.startsWith('AGE-SECRET-KEY-1')).map((l) => l.trim())));
  for (const e of entries) {
    const i = bs.findIndex((b) => b.item === e.item);
    if (i >= 0) {
      const old = bs[i]!.lines.find((l) => l.startsWith('AGE-SECRET-KEY-1'));
      const previous = old ? await identityToRecipient(old.trim()).catch(() => undefined) : undefined;
      if (old?.trim() === e.identity) {
        changes.push({ item: e.item, action: 'unchanged', recipient: e.recipient });
        continue;
      }
      bs[i] = block(e, date);
      changes.push({ item: e.item, action: 'replace', recipient: e.recipient, ...(previous ? { previous } : {}) });
    } else if (foreignKeys.has(e.identity)) {
      changes.push({ item: e.item, action: 'present', recipient: e.recipient });
    } else {
      if (bs.length && bs[bs.length - 1]!.lines.at(-1) !== '') bs.push({ lines: [''] });
      bs.push(block(e, date));
      changes.push({ item: e.item, action: 'add', recipient: e.recipient });
    }
  }
  const text = bs.flatMap((b) => b.lines).join('\n') + '\n';
  return { text: text === '\n' ? '' : text, changes };
}
