/**
 * age stanzas, as they appear in file headers and on the plugin protocol's stdin/stdout:
 *
 *   "-> " TYPE *(" " ARG) "\n"
 *   body: canonical unpadded base64 in 64-column lines, ending with one shorter (possibly empty) line
 *
 * Encoding is total; decoding is strict (C2SP age.md): arguments are one or more VCHARs, base64 is
 * canonical and unpadded, no CR, no over-long line, and EOF inside a stanza is an error.
 */
import { base64nopad } from '@scure/base';

export interface Stanza {
  type: string;
  args: string[];
  body: Uint8Array;
}

export class ProtocolError extends Error {
  readonly code = 'AGE_PROTOCOL';
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

const VCHARS = /^[\x21-\x7e]+$/;
const B64_LINE = /^[A-Za-z0-9+/]*$/;
/** Longest argument line accepted: generous for many arguments, bounded against garbage. */
export const MAX_ARG_LINE = 64 * 1024;
/** Largest stanza body accepted (post-quantum stanzas are a few KiB). */
export const MAX_BODY = 1 << 20;

export function isValidArg(s: string): boolean {
  return VCHARS.test(s);
}

export function encodeBody(body: Uint8Array): string {
  const b64 = base64nopad.encode(body);
  let out = '';
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + '\n';
  if (b64.length % 64 === 0) out += '\n';
  return out;
}

export function encodeStanza(s: Stanza): string {
  for (const a of [s.type, ...s.args]) {
    if (!isValidArg(a)) throw new ProtocolError(`invalid stanza argument ${JSON.stringify(a).slice(0, 40)}`);
  }
  return `-> ${[s.type, ...s.args].join(' ')}\n${encodeBody(s.body)}`;
}

/** Decodes one body line; throws unless it is canonical unpadded base64 of at most 48 bytes. */
export function decodeBodyLine(line: string): Uint8Array {
  if (line.length > 64) throw new ProtocolError('stanza body line longer than 64 columns');
  if (!B64_LINE.test(line) || line.length % 4 === 1) throw new ProtocolError('stanza body is not canonical unpadded base64');
  let bytes: Uint8Array;
  try {
    bytes = base64nopad.decode(line);
  } catch {
    throw new ProtocolError('stanza body is not canonical unpadded base64');
  }
  if (base64nopad.encode(bytes) !== line) throw new ProtocolError('stanza body is not canonical base64');
  return bytes;
}

export function parseArgLine(line: string): { type: string; args: string[] } {
  if (!line.startsWith('-> ')) throw new ProtocolError('expected a stanza line starting with "-> "');
  const parts = line.slice(3).split(' ');
  if (parts.length === 0 || parts.some((p) => !isValidArg(p))) throw new ProtocolError('invalid stanza arguments');
  return { type: parts[0]!, args: parts.slice(1) };
}

/**
 * Reads LF-terminated lines from a byte stream. A CR anywhere, a line longer than `maxLine`, or a
 * final unterminated line is a protocol error. `readLine` returns null at a clean EOF.
 */
export class LineReader {
  private buf = Buffer.alloc(0);
  private ended = false;
  private readonly iterator: AsyncIterator<Uint8Array | string> | undefined;

  constructor(source: AsyncIterable<Uint8Array | string>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  private pending: Promise<void> | undefined;

  /** Reads one more chunk into the buffer (shared by concurrent callers). */
  private pump(): Promise<void> {
    this.pending ??= (async () => {
      try {
        const r = await this.iterator!.next();
        if (r.done) this.ended = true;
        else this.buf = Buffer.concat([this.buf, typeof r.value === 'string' ? Buffer.from(r.value) : Buffer.from(r.value)]);
      } catch {
        this.ended = true;
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }

  /** Resolves when the input has ended (data that arrives meanwhile stays buffered for readLine). */
  async whenEnded(): Promise<void> {
    while (!this.ended) await this.pump();
  }

  async readLine(maxLine = MAX_ARG_LINE): Promise<string | null> {
    for (;;) {
      const nl = this.buf.indexOf(0x0a);
      if (nl >= 0) {
        if (nl > maxLine) throw new ProtocolError('line too long');
        const line = this.buf.subarray(0, nl);
        this.buf = this.buf.subarray(nl + 1);
        if (line.includes(0x0d)) throw new ProtocolError('unexpected CR in stanza');
        return line.toString('latin1');
      }
      if (this.buf.length > maxLine) throw new ProtocolError('line too long');
      if (this.ended) {
        if (this.buf.length > 0) throw new ProtocolError('unexpected end of input inside a line');
        return null;
      }
      await this.pump();
    }
  }
}

/** Reads stanzas one at a time from a byte stream. */
export class StanzaReader {
  readonly lines: LineReader;
  constructor(source: AsyncIterable<Uint8Array | string> | LineReader) {
    this.lines = source instanceof LineReader ? source : new LineReader(source);
  }

  /** The next stanza, or null at a clean end of input. */
  async next(): Promise<Stanza | null> {
    const first = await this.lines.readLine();
    if (first === null) return null;
    const { type, args } = parseArgLine(first);
    const chunks: Uint8Array[] = [];
    for (;;) {
      const line = await this.lines.readLine(1024);
      if (line === null) throw new ProtocolError('unexpected end of input inside a stanza body');
      const bytes = decodeBodyLine(line);
      chunks.push(bytes);
      if (chunks.length * 48 > MAX_BODY) throw new ProtocolError(`stanza body larger than ${MAX_BODY} bytes`);
      if (line.length < 64) break;
    }
    const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of chunks) {
      body.set(c, o);
      o += c.length;
    }
    return { type, args, body };
  }
}

/**
 * Decodes a stanza argument that must be canonical unpadded base64 of exactly `bytes` bytes;
 * null otherwise (the length is checked before decoding, so hostile arguments cost nothing).
 */
export function decodeFixedArg(s: string, bytes: number): Uint8Array | null {
  if (s.length !== Math.ceil((4 * bytes) / 3)) return null;
  try {
    const out = base64nopad.decode(s);
    return out.length === bytes && base64nopad.encode(out) === s ? out : null;
  } catch {
    return null;
  }
}
