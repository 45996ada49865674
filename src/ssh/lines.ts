/**
 * Public-key input for ssh-to-age: single keys, authorized_keys files, ssh-keyscan output and
 * known_hosts lines, one key per line, in input order.
 *
 * Every line the reference (Mic92/ssh-to-age, golang.org/x/crypto/ssh parsers) accepts is read
 * the same way, so output is byte-identical: a line starting with `ssh-` is an authorized_keys
 * entry (type field ignored, key type taken from the blob, then the options form), anything else
 * a known_hosts entry (`[@marker] hosts type base64 [comment]`). Where the reference aborts the
 * whole run on a valid line (leading whitespace, options with quoted spaces, blank CRLF lines,
 * bare `ecdsa-*` / `sk-*` keys), the key is found by its type name instead, or the line is
 * skipped.
 */
import { excerpt } from '../text/excerpt.ts';
import { KeyConversionError } from './errors.ts';
import { ed25519FromSshBlob, ed25519PublicKeysToAgeRecipients, sshBlobKeyType, x25519ToAgeRecipient } from './convert.ts';
import { startEdwardsToMontgomeryPacked, type PackedMontgomery, type PendingMontgomery } from './montgomery.ts';

export type LineOutcome =
  | { readonly kind: 'blank' }
  | { readonly kind: 'ed25519'; readonly publicKey: Uint8Array }
  | { readonly kind: 'unsupported'; readonly keyType: string }
  | { readonly kind: 'error'; readonly error: KeyConversionError };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const KEY_TYPE_NAME = /^(?:ssh-|ecdsa-sha2-|sk-)[A-Za-z0-9@.+-]+$/;

/** Strict standard base64 with padding, as Go's base64.StdEncoding; undefined when invalid. */
function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

type Candidate = { outcome: LineOutcome } | { problem: KeyConversionError };

/** Reads a base64 key blob; an ssh-ed25519 blob must be well formed to count as a key. */
function candidate(field: string | undefined): Candidate | undefined {
  if (field === undefined) return undefined;
  const blob = decodeBase64(field);
  if (!blob) return undefined;
  let type: string;
  try {
    type = sshBlobKeyType(blob);
  } catch {
    return undefined;
  }
  // Key type names are short printable ASCII (the longest OpenSSH knows has 43 characters).
  if (type.length === 0 || type.length > 64 || !/^[\x21-\x7e]+$/.test(type)) return undefined;
  if (type !== 'ssh-ed25519') return { outcome: { kind: 'unsupported', keyType: type } };
  try {
    return { outcome: { kind: 'ed25519', publicKey: ed25519FromSshBlob(blob) } };
  } catch (err) {
    return { problem: err as KeyConversionError };
  }
}

/** authorized_keys options end at the first space or tab outside double quotes. */
function afterOptions(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === ' ' || c === '\t')) return line.slice(i).trimStart();
  }
  return '';
}

/** Whitespace-separated fields, where double-quoted option values may contain spaces. */
function quoteAwareFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (!quoted && (c === ' ' || c === '\t')) {
      if (field) fields.push(field);
      field = '';
      continue;
    }
    if (c === '\\' && quoted && i + 1 < line.length) field += c + line[++i];
    else {
      if (c === '"') quoted = !quoted;
      field += c;
    }
  }
  if (field) fields.push(field);
  return fields;
}

function reference(line: string): Candidate | undefined {
  if (line.startsWith('ssh-')) {
    const first = candidate(line.split(/[ \t]+/)[1]);
    if (first) return first;
    return candidate(afterOptions(line).split(/[ \t]+/)[1]);
  }
  let fields = line.split(/\s+/);
  if (fields.length < 3 || fields.length > 5) return undefined;
  if (fields[0]!.startsWith('@')) fields = fields.slice(1);
  return candidate(fields[2]);
}

/** base64 of the blob's fixed part: uint32 11, "ssh-ed25519", uint32 32 (its last character also holds 2 key bits). */
const ED25519_BLOB_PREFIX = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI';
const ED25519_LINE_KEY_END = 12 + 68; // "ssh-ed25519 " + 68 base64 characters (51 bytes)

/** Decodes the 68-character key field of a plain line into `blob` (51 bytes); false when it is not an ssh-ed25519 blob. */
function plainBlob(field: string, blob: Buffer): boolean {
  return BASE64.test(field) && blob.write(field, 0, 'base64') === 51 && blob[18] === 0x20;
}

/**
 * The common line `ssh-ed25519 <blob> [comment]`, read without splitting the line: what the
 * general path gives for it, with a fraction of the garbage (it matters for 100,000 lines).
 */
function plainEd25519(line: string): LineOutcome | undefined {
  if (!line.startsWith(ED25519_BLOB_PREFIX) || line.length < ED25519_LINE_KEY_END) return undefined;
  if (line.length > ED25519_LINE_KEY_END && line[ED25519_LINE_KEY_END] !== ' ' && line[ED25519_LINE_KEY_END] !== '\t') return undefined;
  const blob = Buffer.allocUnsafe(51);
  return plainBlob(line.slice(12, ED25519_LINE_KEY_END), blob) ? { kind: 'ed25519', publicKey: blob.subarray(19) } : undefined;
}

const PREFIX_BYTES = Buffer.from(ED25519_BLOB_PREFIX, 'latin1');

/**
 * plainEd25519 on the bytes of a raw line (no string for the line): true when `data[start, end)`
 * is such a line, its blob decoded into `blob`. A line it does not take goes the string way.
 * The line starts with the prefix (so there is nothing to trim before it); the key field must end
 * at the end of the line, at a space or tab (its end as trimmed) or at a CR (where the line is cut).
 */
function plainEd25519Bytes(data: Buffer, start: number, end: number, blob: Buffer): boolean {
  const length = end - start;
  if (length < ED25519_LINE_KEY_END || length > MAX_LINE_LENGTH) return false;
  if (data.compare(PREFIX_BYTES, 0, PREFIX_BYTES.length, start, start + PREFIX_BYTES.length) !== 0) return false;
  if (length > ED25519_LINE_KEY_END) {
    const c = data[start + ED25519_LINE_KEY_END];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return plainBlob(data.toString('latin1', start + 12, start + ED25519_LINE_KEY_END), blob);
}

/** Classifies one input line (without its `\n`). Never throws. */
export function parsePublicKeyLine(rawLine: string): LineOutcome {
  const cr = rawLine.indexOf('\r');
  const line = (cr === -1 ? rawLine : rawLine.slice(0, cr)).trim();
  if (line.length === 0 || line[0] === '#') return { kind: 'blank' };
  const plain = plainEd25519(line);
  if (plain) return plain;

  const found = reference(line);
  if (found && 'outcome' in found) return found.outcome;
  let problem = found && 'problem' in found ? found.problem : undefined;

  const fields = quoteAwareFields(line);
  for (let j = 0; j + 1 < fields.length; j++) {
    if (!KEY_TYPE_NAME.test(fields[j]!)) continue;
    const c = candidate(fields[j + 1]);
    if (c && 'outcome' in c) return c.outcome;
    problem ??=
      c?.problem ??
      new KeyConversionError(
        `the key data after '${excerpt(fields[j]!)}' is not valid base64 (truncated or damaged?): copy the key line again from its source`,
        'INVALID_BASE64',
      );
  }
  return {
    kind: 'error',
    error:
      problem ??
      new KeyConversionError(
        "not a public key line: expected 'ssh-ed25519 AAAA… [comment]', an authorized_keys entry or a known_hosts / ssh-keyscan line",
        'NOT_A_KEY_LINE',
      ),
  };
}

export type LineResult =
  | { readonly line: number; readonly recipient: string }
  | { readonly line: number; readonly skippedKeyType: string };

export interface PublicKeysConversion {
  /** Converted and skipped lines, in input order, up to the first error. */
  readonly results: LineResult[];
  /** The first failing line, if any (1-based). Nothing should be output when set. */
  readonly error?: { readonly line: number; readonly error: KeyConversionError };
}

/** Message the reference prints on stderr for a non-ed25519 key. */
export function skippedKeyMessage(keyType: string): string {
  return `skipped key: got ${keyType} key type, but only ed25519 keys are supported`;
}

/** Lines longer than this are refused (an SSH key line is a few KiB at most). */
export const MAX_LINE_LENGTH = 1 << 20;
/** Keys converted per batch: large enough to share the inversion and the threads, small enough to stream. */
const BATCH = 2048;

/**
 * Converts public-key input line by line, as it streams in: push each line (without its `\n`),
 * then finish(). Points are validated and converted in batches; results are handed to `onResult`
 * in input order, and conversion stops at the first bad line (results after it are not given).
 */
export class PublicKeyLineConverter {
  private lineNo = 0;
  // The batch is kept packed (no object per key: fewer survivors for the young-generation GC).
  private readonly keys = Buffer.alloc(32 * BATCH);
  private readonly keyLines = new Int32Array(BATCH);
  private readonly blob = Buffer.alloc(51);
  private keyCount = 0;
  private skipped: { line: number; keyType: string }[] = [];
  /** The batch the worker threads convert while the next lines are read. */
  private inFlight: { job: PendingMontgomery; lines: Int32Array; skipped: { line: number; keyType: string }[] } | undefined;
  private error: PublicKeysConversion['error'];

  constructor(private readonly onResult: (r: LineResult) => void) {}

  /** The first error so far. */
  get failed(): PublicKeysConversion['error'] {
    return this.error;
  }

  /** Adds the next line; returns false once the conversion has stopped at an error. */
  push(rawLine: string): boolean {
    if (this.error) return false;
    const line = ++this.lineNo;
    if (rawLine.length > MAX_LINE_LENGTH) {
      this.fail(line, new KeyConversionError(`the line is longer than ${MAX_LINE_LENGTH} characters: not a public key line`, 'LINE_TOO_LONG'));
      return false;
    }
    const outcome = parsePublicKeyLine(rawLine);
    switch (outcome.kind) {
      case 'error':
        this.fail(line, outcome.error);
        return false;
      case 'blank':
        return true;
      case 'unsupported':
        this.skipped.push({ line, keyType: outcome.keyType });
        if (this.skipped.length >= BATCH) this.flush();
        return !this.error;
      case 'ed25519':
        return this.addKey(line, outcome.publicKey);
    }
  }

  /**
   * push() for a line given as bytes (`data[start, end)`, without its `\n`, UTF-8): the common
   * plain `ssh-ed25519` line is read from the bytes, any other decoded and pushed.
   */
  pushBytes(data: Buffer, start: number, end: number): boolean {
    if (this.error) return false;
    if (!plainEd25519Bytes(data, start, end, this.blob)) return this.push(data.toString('utf8', start, end));
    return this.addKey(++this.lineNo, this.blob.subarray(19));
  }

  private addKey(line: number, publicKey: Uint8Array): boolean {
    this.keys.set(publicKey, 32 * this.keyCount);
    this.keyLines[this.keyCount++] = line;
    if (this.keyCount >= BATCH) this.flush();
    return !this.error;
  }

  /** Converts what is pending; returns the first error, if any. */
  finish(): PublicKeysConversion['error'] {
    this.drain();
    return this.error;
  }

  private fail(line: number, error: KeyConversionError): void {
    this.drain(); // an invalid point on an earlier line wins
    this.error ??= { line, error };
  }

  /** Converts every key read so far: the first flush starts the pending batch, the second collects it. */
  private drain(): void {
    this.flush();
    this.flush();
  }

  /**
   * Collects the batch in flight, starts the one just read (worker threads convert it while the
   * next lines are read), then hands out the results of the collected one.
   */
  private flush(): void {
    const previous = this.inFlight;
    this.inFlight = undefined;
    const converted = previous?.job.finish();
    const count = this.keyCount;
    const skipped = this.skipped;
    this.keyCount = 0;
    this.skipped = [];
    if (!this.error && (count > 0 || skipped.length > 0)) {
      this.inFlight = { job: startEdwardsToMontgomeryPacked(this.keys, count), lines: this.keyLines.slice(0, count), skipped };
    }
    if (previous && converted) this.emit(converted, previous.lines, previous.skipped);
    if (this.error && this.inFlight) {
      this.inFlight.job.finish();
      this.inFlight = undefined;
    }
  }

  private emit({ us, valid }: PackedMontgomery, lines: Int32Array, skipped: { line: number; keyType: string }[]): void {
    if (this.error) return;
    let s = 0;
    for (let k = 0; k < lines.length; k++) {
      const line = lines[k]!;
      for (; s < skipped.length && skipped[s]!.line < line; s++) this.onResult({ line: skipped[s]!.line, skippedKeyType: skipped[s]!.keyType });
      if (!valid[k]) {
        this.error = {
          line,
          error: new KeyConversionError(
            'cannot convert ed25519 public key to curve25519: invalid point encoding (the key is damaged: copy it again from its source)',
            'INVALID_POINT',
          ),
        };
        return;
      }
      this.onResult({ line, recipient: x25519ToAgeRecipient(us.subarray(32 * k, 32 * k + 32)) });
    }
    for (; s < skipped.length; s++) this.onResult({ line: skipped[s]!.line, skippedKeyType: skipped[s]!.keyType });
  }
}

/**
 * Converts a whole public-key input (lines split on `\n`). Points are validated and converted
 * in batches; the result stops at the first bad line.
 */
export function convertPublicKeyLines(text: string): PublicKeysConversion {
  const results: LineResult[] = [];
  const converter = new PublicKeyLineConverter((r) => results.push(r));
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (!converter.push(nl === -1 ? text.slice(start) : text.slice(start, nl)) || nl === -1) break;
    start = nl + 1;
  }
  const error = converter.finish();
  return error ? { results, error } : { results };
}

/** age recipient of one public key line (`ssh-ed25519 AAAA… [comment]`, authorized_keys or known_hosts form). */
export function sshPublicKeyToAgeRecipient(line: string): string {
  const outcome = parsePublicKeyLine(line);
  switch (outcome.kind) {
    case 'ed25519': {
      const [recipient] = ed25519PublicKeysToAgeRecipients([outcome.publicKey]);
      if (!recipient) {
        throw new KeyConversionError('cannot convert ed25519 public key to curve25519: invalid point encoding', 'INVALID_POINT');
      }
      return recipient;
    }
    case 'unsupported':
      throw new KeyConversionError(`got ${outcome.keyType} key type, but only ed25519 keys are supported`, 'UNSUPPORTED_KEY_TYPE');
    case 'blank':
      throw new KeyConversionError('no public key on the line', 'NOT_A_KEY_LINE');
    case 'error':
      throw outcome.error;
  }
}
