/**
 * Merging Bitwarden-derived identities into a workstation `keys.txt` without losing anything:
 * identities keybridge wrote are marked with a `# keybridge: Bitwarden item NAME` comment and are
 * replaced in place; everything else in the file is kept byte for byte (whatever its encoding);
 * new items are appended. The plan can be shown without secrets (public keys only).
 *
 * A keybridge block is exactly what keybridge writes: the mark, `# created: …`,
 * `# public key: age1…` and the identity whose public key that comment names. Lines that do not
 * fit (say, the identity line was deleted by hand and a foreign identity follows) are not part of
 * the block and stay untouched.
 */
import { identityToRecipient } from 'age-encryption';

export interface SyncEntry {
  item: string;
  identity: string;
  recipient: string;
}

export interface SyncPlan {
  /** The new file (bytes outside keybridge's blocks exactly as they were). */
  bytes: Buffer;
  /** The same, decoded as UTF-8 (for display; may differ from `bytes` for other encodings). */
  text: string;
  changes: { item: string; action: 'add' | 'replace' | 'unchanged' | 'present'; recipient: string; previous?: string }[];
}

// Lines are handled as latin1 strings: one character per byte, so any byte sequence round-trips.
const MARK = /^# keybridge: Bitwarden item (.+)$/;
const CREATED = /^# created: /;
const PUBLIC = /^# public key: (age1[0-9a-z]+)\s*$/;
const SECRET = /^AGE-SECRET-KEY-1[0-9A-Z]+\s*$/;

/** latin1 form of a JS string's UTF-8 bytes (what the file holds for it). */
function bytesOf(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

interface Block {
  /** The item name, as the file's bytes (latin1). */
  item?: string;
  lines: string[];
  /** The identity line of a keybridge block. */
  identity?: string;
}

async function recipientOf(identity: string): Promise<string | undefined> {
  return identityToRecipient(identity.trim()).catch(() => undefined);
}

async function blocks(file: string): Promise<Block[]> {
  const lines = file.length ? file.replace(/\n$/, '').split('\n') : [];
  const out: Block[] = [];
  const foreign = (l: string) => {
    const last = out[out.length - 1];
    if (last && !last.item) last.lines.push(l);
    else out.push({ lines: [l] });
  };
  for (let i = 0; i < lines.length; i++) {
    const m = MARK.exec(lines[i]!);
    if (!m) {
      foreign(lines[i]!);
      continue;
    }
    const b: Block = { item: m[1]!, lines: [lines[i]!] };
    out.push(b);
    if (i + 1 < lines.length && CREATED.test(lines[i + 1]!)) b.lines.push(lines[++i]!);
    const pub = i + 1 < lines.length ? PUBLIC.exec(lines[i + 1]!) : null;
    if (pub) b.lines.push(lines[++i]!);
    const next = lines[i + 1];
    // The identity belongs to the block only if it is the one the comment names (or, without a
    // comment, the line right after the mark).
    if (next !== undefined && SECRET.test(next) && (!pub || (await recipientOf(next)) === pub[1])) {
      b.lines.push(next);
      b.identity = next.trim();
      i++;
    }
  }
  return out;
}

const written = new WeakSet<Block>();

function block(e: SyncEntry, date: string): Block {
  return remember({ item: bytesOf(e.item), lines: [bytesOf(`# keybridge: Bitwarden item ${e.item}`), `# created: ${date}`, `# public key: ${e.recipient}`, e.identity], identity: e.identity });
}

function remember(b: Block): Block {
  written.add(b);
  return b;
}

export async function planSync(existing: string | Uint8Array, entries: SyncEntry[], now = new Date()): Promise<SyncPlan> {
  const file = typeof existing === 'string' ? bytesOf(existing) : Buffer.from(existing.buffer, existing.byteOffset, existing.byteLength).toString('latin1');
  const date = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const bs = await blocks(file);
  const changes: SyncPlan['changes'] = [];
  const foreignKeys = new Set(bs.filter((b) => !b.item).flatMap((b) => b.lines.filter((l) => SECRET.test(l)).map((l) => l.trim())));
  for (const e of entries) {
    const name = bytesOf(e.item);
    const i = bs.findIndex((b) => b.item === name);
    if (i >= 0) {
      const old = bs[i]!.identity;
      if (old === e.identity) {
        changes.push({ item: e.item, action: 'unchanged', recipient: e.recipient });
        continue;
      }
      const previous = old ? await recipientOf(old) : undefined;
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
  let out = bs.flatMap((b) => b.lines).join('\n');
  // The file's own ending is kept; a block keybridge writes at the end ends with a newline.
  if (out.length && (file.endsWith('\n') || written.has(bs[bs.length - 1]!))) out += '\n';
  const bytes = Buffer.from(out, 'latin1');
  return { bytes, text: bytes.toString('utf8'), changes };
}
