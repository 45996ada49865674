/**
 * The conversions behind `ssh-to-age` (loaded once the arguments are parsed): streamed public-key
 * input, bounded private-key input, atomic output.
 */
import { closeSync, createReadStream, existsSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Worker as WorkerType } from 'node:worker_threads';
import { PublicKeyLineConverter, skippedKeyMessage } from '../ssh/lines.ts';
import { KeyConversionError } from '../ssh/errors.ts';
import { prepareLargeConversion } from '../ssh/montgomery.ts';
import { CliError, write, type Io } from './io.ts';
import type { SshToAgeOptions } from './ssh-to-age.ts';
import { builtin } from '../builtin.ts';

/** A private key file is a few KiB; more is not a key (or is /dev/zero). */
const MAX_PRIVATE_KEY_INPUT = 1 << 20;
/** -stdinpass reads at most this much. */
const MAX_PASSPHRASE = 64 << 10;

function ioReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'not a directory';
    case 'ENOTREG':
    case 'ENXIO':
    case 'EFBIG':
      return e.message;
    default:
      return e.code ?? (err instanceof Error ? err.message : String(err));
  }
}

function inputName(opts: SshToAgeOptions): string {
  return opts.input === '-' ? 'stdin' : opts.input;
}

/** Chunk buffers read by openInput itself: nothing else refers to them, so they can be transferred to a worker rather than copied. */
const ownBuffers = new WeakSet<ArrayBufferLike>();

/** The input as a stream (a FIFO or `<(…)` works; nothing is read until asked). */
type Input = AsyncIterable<Buffer | string> & { destroy(): void };

/**
 * The input as chunks. A file, or the process's own standard input, is read with read(2) on its
 * descriptor (setting up a stream costs more than reading one key); should the descriptor be
 * non-blocking (EAGAIN), a stream takes over. Another Io's stdin is read as the stream it is.
 */
function openInput(opts: SshToAgeOptions, io: Io): Input {
  if (opts.input === '-' && io.stdinFd === undefined) return io.stdin;
  const path = opts.input === '-' ? undefined : resolve(io.cwd, opts.input);
  let fd: number | undefined;
  let closed = false;
  const close = () => {
    if (!closed && path !== undefined && fd !== undefined) closeSync(fd);
    closed = true;
  };
  async function* chunks(): AsyncGenerator<Buffer | string> {
    fd = path === undefined ? io.stdinFd! : openSync(path, 'r');
    for (;;) {
      const buf = Buffer.allocUnsafeSlow(64 << 10);
      ownBuffers.add(buf.buffer);
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        const stream = path === undefined ? io.stdin : createReadStream('', { fd, autoClose: false });
        for await (const c of stream) yield c as Buffer | string;
        return;
      }
      if (n === 0) return;
      yield buf.subarray(0, n);
    }
  }
  const it = chunks();
  return Object.assign(
    {
      [Symbol.asyncIterator]: () => it,
    },
    { destroy: close },
  );
}

/** Reads a whole stream, refusing more than `max` bytes (wiping what was read). */
async function readBounded(stream: Input | Readable, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += b.length;
      chunks.push(b);
      if (size > max) {
        stream.destroy();
        throw new CliError(`${what} is larger than ${max} bytes: not a private key`);
      }
    }
    return Buffer.concat(chunks);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`error reading ${what}: ${ioReason(err)}`);
  } finally {
    for (const c of chunks) c.fill(0);
  }
}

/**
 * Hands each line of a stream (split on `\n`, without it) to `push` as bytes, as they arrive,
 * until `push` returns false. An endless line is cut at MAX_LINE_BYTES (the converter refuses it).
 */
async function feedLines(stream: AsyncIterable<Buffer | string>, converter: PublicKeyLineConverter): Promise<void> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of stream) {
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    if (rest.length) data = Buffer.concat([rest, data]);
    let start = 0;
    for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a, start)) {
      if (!converter.pushBytes(data, start, nl)) return;
      start = nl + 1;
    }
    rest = data.subarray(start);
    if (rest.length > MAX_LINE_BYTES) {
      converter.push(rest.toString('latin1'));
      return;
    }
  }
  converter.pushBytes(rest, 0, rest.length);
}
const MAX_LINE_BYTES = (1 << 20) + 1;

async function emit(opts: SshToAgeOptions, io: Io, output: string | Buffer[], secret: boolean): Promise<void> {
  if (opts.output === '-') {
    for (const piece of typeof output === 'string' ? [output] : output) await write(io.stdout, piece);
    return;
  }
  const text = typeof output === 'string' ? output : Buffer.concat(output);
  try {
    const { writeFileAtomic } = await import('../fs/atomicWrite.ts');
    await writeFileAtomic(resolve(io.cwd, opts.output), text, { secret, allowStream: true });
  } catch (err) {
    throw new CliError(`failed to create ${opts.output}: ${ioReason(err)}`);
  }
}

/** Passphrase from -stdinpass (trailing CR/LF removed) or SSH_TO_AGE_PASSPHRASE. */
async function passphrase(opts: SshToAgeOptions, io: Io): Promise<Buffer> {
  if (opts.stdinPass) {
    const raw = await readBounded(io.stdin, MAX_PASSPHRASE, 'the passphrase on stdin');
    let end = raw.length;
    while (end > 0 && (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d)) end--;
    const pass = Buffer.from(raw.subarray(0, end));
    raw.fill(0);
    return pass;
  }
  return Buffer.from(io.env.SSH_TO_AGE_PASSPHRASE ?? '', 'utf8');
}

export async function convertPrivate(opts: SshToAgeOptions, io: Io): Promise<void> {
  const input = await readBounded(openInput(opts, io), MAX_PRIVATE_KEY_INPUT, inputName(opts));
  const pass = await passphrase(opts, io);
  const { sshPrivateKeyToAgeIdentity } = await import('../ssh/identity.ts');
  let text: string;
  try {
    const pair = sshPrivateKeyToAgeIdentity(input.toString('utf8'), pass);
    text = opts.json ? `${JSON.stringify({ identity: pair.identity, recipient: pair.recipient })}\n` : `${pair.identity}\n`;
    for (const warning of pair.warnings) await write(io.stderr, `warning: ${warning}\n`);
  } catch (err) {
    if (err instanceof KeyConversionError) throw new CliError(`failed to convert the private key: ${err.message}`);
    throw err;
  } finally {
    pass.fill(0);
    input.fill(0);
  }
  await emit(opts, io, text, true);
}

/** What a public-key conversion produced, before anything is printed. */
interface PublicResult {
  /** Recipients (`age1…\n` lines) in pieces, or the -json document. */
  output: Buffer[] | string;
  /** Skipped-key messages for stderr. */
  messages: string;
  count: number;
  error?: { line: number; message: string };
}

/** Converts streamed input; holds only the output (63 bytes a key, as bytes rather than strings), never the input lines. */
async function collectPublic(opts: SshToAgeOptions, input: AsyncIterable<Buffer | string>): Promise<PublicResult> {
  const out = new ByteSink();
  const recipients: { line: number; recipient: string }[] = [];
  const skipped: { line: number; keyType: string }[] = [];
  let messages = '';
  let count = 0;
  const converter = new PublicKeyLineConverter((r) => {
    count++;
    if ('recipient' in r) {
      if (opts.json) recipients.push({ line: r.line, recipient: r.recipient });
      else out.append(r.recipient);
    } else if (opts.json) skipped.push({ line: r.line, keyType: r.skippedKeyType });
    else messages += `${skippedKeyMessage(r.skippedKeyType)}\n`;
  });
  await feedLines(input, converter);
  const error = converter.finish();
  return {
    output: opts.json ? `${JSON.stringify({ recipients, skipped })}\n` : out.pieces(),
    messages: opts.json ? '' : messages,
    count,
    ...(error ? { error: { line: error.line, message: error.error.message } } : {}),
  };
}

/** Inputs up to this size convert on the main thread; larger ones in a worker (see convertPublic). */
const WORKER_THRESHOLD = 256 << 10;
const WORKER_ROLE = 'keybridge:ssh-to-age:public';
/** Chunks posted to the worker and not yet taken (flow control: memory stays bounded for any input size). */
const IN_FLIGHT = 16;

/**
 * Public keys: small inputs convert right here (no thread to start). A large input is handed,
 * chunk by chunk as it is read, to a worker thread whose young generation is capped: converting
 * 100,000 keys makes a lot of short-lived garbage, and on the main thread V8 would grow its
 * nursery to 32 MB for it. Where a worker cannot start (running from the TypeScript sources),
 * the main thread converts.
 */
export async function convertPublic(opts: SshToAgeOptions, io: Io): Promise<void> {
  const what = inputName(opts);
  const stream = openInput(opts, io);
  const source = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const head: (Buffer | string)[] = [];
  let size = 0;
  let ended = false;
  let result: PublicResult | undefined;
  try {
    while (size <= WORKER_THRESHOLD) {
      const next = await source.next();
      if (next.done) {
        ended = true;
        break;
      }
      head.push(next.value);
      size += next.value.length;
    }
    if (!ended) result = await collectInWorker(opts, head, source);
    result ??= await collectPublic(opts, chain(head, source));
  } catch (err) {
    // system errors come from reading; anything else is a bug and is reported as one
    if (err instanceof CliError || typeof (err as NodeJS.ErrnoException).code !== 'string') throw err;
    throw new CliError(`error reading ${what}: ${ioReason(err)}`);
  } finally {
    stream.destroy();
  }
  if (result.messages) await write(io.stderr, result.messages);
  if (result.error) {
    const where = opts.input === '-' ? `line ${result.error.line}` : `${opts.input}, line ${result.error.line}`;
    throw new CliError(`${where}: ${result.error.message}`);
  }
  if (result.count === 0) await write(io.stderr, 'warning: no public keys in the input\n');
  await emit(opts, io, result.output, false);
}

async function* chain<T>(head: T[], rest: AsyncIterator<T>): AsyncGenerator<T> {
  yield* head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

type ToWorker = { chunk: Uint8Array } | { end: true };
type FromWorker = { ready: true } | { taken: true } | { result: Omit<PublicResult, 'output'> & { output: string | { buffer: ArrayBuffer; offset: number; length: number }[] } };

function workerThreads(): typeof import('node:worker_threads') {
  return builtin('node:worker_threads');
}

/**
 * The conversion thread's entry: `workers/ssh-to-age-public.mjs` next to the bundle (dist/ or
 * dist/chunks/), or sshToAgeWorker.ts beside this file when running from the sources.
 */
function workerEntry(): URL | undefined {
  for (const rel of ['./workers/ssh-to-age-public.mjs', '../workers/ssh-to-age-public.mjs', './sshToAgeWorker.ts']) {
    const url = new URL(rel, import.meta.url);
    if (url.protocol === 'file:' && existsSync(fileURLToPath(url))) return url;
  }
  return undefined;
}

/** Runs collectPublic in a worker; undefined when no worker could start (nothing was consumed then). */
async function collectInWorker(opts: SshToAgeOptions, head: (Buffer | string)[], source: AsyncIterator<Buffer | string>): Promise<PublicResult | undefined> {
  const entry = workerEntry();
  if (!entry) return undefined;
  let worker: WorkerType;
  try {
    const { Worker } = workerThreads();
    worker = new Worker(entry, { workerData: { role: WORKER_ROLE, opts }, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 256 } });
  } catch {
    return undefined;
  }
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let fail: ((e: Error) => void) | undefined;
  let finish: ((r: PublicResult) => void) | undefined;
  let settled = false;
  const done = new Promise<PublicResult>((resolve, reject) => {
    finish = (r) => ((settled = true), wake?.(), resolve(r));
    fail = (e) => ((settled = true), wake?.(), reject(e));
  });
  done.catch(() => undefined);
  const ready = await new Promise<boolean>((resolve) => {
    worker.on('message', (m: FromWorker) => {
      if ('ready' in m) resolve(true);
      else if ('taken' in m) {
        inFlight--;
        wake?.();
      } else {
        const output = typeof m.result.output === 'string' ? m.result.output : m.result.output.map((p) => Buffer.from(p.buffer, p.offset, p.length));
        finish!({ ...m.result, output });
      }
    });
    worker.on('error', (e) => {
      resolve(false);
      fail!(e);
    });
    worker.on('exit', () => {
      resolve(false);
      fail!(new Error('internal: the conversion thread stopped'));
    });
  });
  if (!ready) return undefined;
  try {
    // Returns false once the worker has its answer (it stops early at an error or an endless line).
    const post = async (chunk: Buffer | string) => {
      while (inFlight >= IN_FLIGHT && !settled) await new Promise<void>((r) => (wake = r));
      if (settled) return false;
      inFlight++;
      if (typeof chunk !== 'string' && ownBuffers.has(chunk.buffer)) {
        // moved, not copied: the reading thread keeps no garbage of the whole input
        worker.postMessage({ chunk } satisfies ToWorker, [chunk.buffer as ArrayBuffer]);
      } else worker.postMessage({ chunk: typeof chunk === 'string' ? Buffer.from(chunk) : chunk } satisfies ToWorker);
      return true;
    };
    let more = true;
    for (const chunk of head) if (more) more = await post(chunk);
    while (more) {
      const next = await source.next();
      if (next.done) break;
      more = await post(next.value);
    }
    if (more) worker.postMessage({ end: true } satisfies ToWorker);
    return await done;
  } finally {
    void worker.terminate();
  }
}

/** The worker side: chunks arrive as messages; the result goes back with its buffers transferred. */
export async function publicWorkerMain(): Promise<void> {
  const { parentPort, workerData } = workerThreads();
  if ((workerData as { role?: string } | null)?.role !== WORKER_ROLE) throw new Error('internal: not a conversion thread');
  const port = parentPort!;
  const queue: Uint8Array[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  port.on('message', (m: ToWorker) => {
    if ('chunk' in m) queue.push(m.chunk);
    else ended = true;
    wake?.();
  });
  async function* chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      const c = queue.shift();
      if (c) {
        port.postMessage({ taken: true } satisfies FromWorker);
        yield Buffer.from(c.buffer, c.byteOffset, c.byteLength);
      } else if (ended) return;
      else await new Promise<void>((r) => (wake = r));
    }
  }
  port.postMessage({ ready: true } satisfies FromWorker);
  // This thread is only for large inputs: its helper threads start while the first lines arrive.
  prepareLargeConversion();
  const r = await collectPublic((workerData as { opts: SshToAgeOptions }).opts, chunks());
  const output = typeof r.output === 'string' ? r.output : r.output.map((b) => ({ buffer: b.buffer as ArrayBuffer, offset: b.byteOffset, length: b.length }));
  port.postMessage({ result: { ...r, output } } satisfies FromWorker, typeof output === 'string' ? [] : [...new Set(output.map((o) => o.buffer))]);
}


/** ASCII lines collected into 1 MiB buffers (a JS string per line would cost several times more). */
class ByteSink {
  private readonly chunks: Buffer[] = [];
  private cur = Buffer.allocUnsafe(1 << 20);
  private used = 0;

  append(line: string): void {
    if (this.used + line.length + 1 > this.cur.length) {
      this.chunks.push(this.cur.subarray(0, this.used));
      this.cur = Buffer.allocUnsafe(Math.max(1 << 20, line.length + 1));
      this.used = 0;
    }
    this.used += this.cur.write(line, this.used, 'latin1');
    this.cur[this.used++] = 0x0a;
  }

  /** The collected bytes, in 1 MiB pieces (not copied into one buffer). */
  pieces(): Buffer[] {
    return [...this.chunks, this.cur.subarray(0, this.used)];
  }
}
