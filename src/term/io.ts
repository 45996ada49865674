/**
 * The process boundary every command and plugin works through: an `Io` (standard streams,
 * environment, working directory), so tests run them in-process with captured streams and a
 * controlled environment. Below both cli/ and plugins/: neither imports the other for this.
 */
import { read, writeSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';

export interface Io {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** The name the program was invoked as, for messages like `<argv0>: <message>`. */
  readonly argv0: string;
  /** The descriptor behind stdin when it is the process's own (commands may read it directly). */
  readonly stdinFd?: number;
}

/**
 * process.stdout/stderr with `write` done by a direct write(2): creating the stream objects loads
 * Node's stream machinery (milliseconds of a one-shot command's start), and on Linux these
 * streams write synchronously anyway, so order is the same. Anything else (isTTY, columns,
 * events…) is the real stream, created on first use (`destroyed`, `writableEnded` and 'error'
 * listeners are handled without it until then). Should the descriptor refuse a direct
 * write (EAGAIN once the real stream made it non-blocking), the real stream takes over.
 */
function directWriter(fd: 1 | 2, getStream: () => NodeJS.WriteStream): Writable {
  let direct = true;
  let real: NodeJS.WriteStream | undefined;
  /** Set when a direct write failed (the reader went away): the stream is as good as destroyed. */
  let failed = false;
  /** 'error' listeners added before the real stream exists: told of a failed direct write, moved onto the stream once it is created. */
  const errorListeners = new Set<(err: Error) => void>();
  const stream = (): NodeJS.WriteStream => {
    if (!real) {
      real = getStream();
      for (const l of errorListeners) real.on('error', l);
      errorListeners.clear();
    }
    return real;
  };
  const write = (chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean => {
    const done = typeof encoding === 'function' ? encoding : cb;
    if (direct) {
      let bytes = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : chunk;
      try {
        while (bytes.length) bytes = bytes.subarray(writeSync(fd, bytes));
        // called back from a microtask: the first process.nextTick of a process costs a quarter of a millisecond
        if (done) void Promise.resolve().then(() => done());
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') {
          failed = true;
          if (done) process.nextTick(done, e as Error);
          for (const l of errorListeners) process.nextTick(l, e as Error);
          return false;
        }
        direct = false;
        chunk = bytes;
      }
    }
    return done ? stream().write(chunk, done) : stream().write(chunk);
  };
  const proxy: Writable = new Proxy({} as Writable, {
    get(_t, prop) {
      if (prop === 'write') return write;
      // An 'error' listener (the plugin protocol's: the client went away) is kept here until then.
      if ((prop === 'on' || prop === 'addListener' || prop === 'off' || prop === 'removeListener') && !real) {
        return (event: string | symbol, listener: (err: Error) => void) => {
          if (event !== 'error') {
            const s = stream();
            (s[prop] as (e: string | symbol, l: (err: Error) => void) => unknown).call(s, event, listener);
            return proxy;
          }
          if (prop === 'on' || prop === 'addListener') errorListeners.add(listener);
          else errorListeners.delete(listener);
          return proxy;
        };
      }
      // Asked before each write by the plugin protocol: answered without creating the stream (for
      // a pipe that is a net.Socket, which loads node:net).
      if ((prop === 'destroyed' || prop === 'writableEnded') && !real) return prop === 'destroyed' && failed;
      const s = stream();
      const v = Reflect.get(s, prop, s) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(s) : v;
    },
    set(_t, prop, value) {
      return Reflect.set(stream(), prop, value);
    },
  });
  return proxy;
}

type Chunk = { n: number; buf: Buffer } | { err: NodeJS.ErrnoException };
/** A read(2) of a descriptor started ahead of its reader: the first `inputChunks` of that descriptor takes it. */
const prefetched = new Map<number, Promise<Chunk>>();

function readChunk(fd: number): Promise<Chunk> {
  const buf = Buffer.allocUnsafe(65536);
  return new Promise((resolve) => read(fd, buf, 0, buf.length, null, (err, n) => resolve(err ? { err } : { n, buf })));
}

/**
 * The process's I/O. With `prefetchStdin`, the first read of stdin starts now, on libuv's thread
 * pool, so a request that is already there has arrived when the code that reads it has loaded.
 */
export function processIo(argv0: string, opts: { prefetchStdin?: boolean } = {}): Io {
  // The standard streams are created on first use: setting them up costs milliseconds at start.
  const stdout = directWriter(1, () => process.stdout);
  const stderr = directWriter(2, () => process.stderr);
  const io: Io = {
    get stdin() {
      return process.stdin;
    },
    stdout,
    stderr,
    stdinFd: 0,
    env: process.env,
    cwd: process.cwd(),
    argv0,
  };
  if (opts.prefetchStdin && !prefetched.has(0)) prefetched.set(0, readChunk(0));
  return io;
}

/**
 * The bytes arriving on `io`'s standard input, for a reader that only iterates them (the age
 * plugin protocol): with the process's own stdin, read(2) on libuv's thread pool instead of
 * process.stdin, whose set-up loads node's net and stream modules (milliseconds of a plugin's
 * start). A non-blocking descriptor (EAGAIN) is handed to process.stdin.
 */
export function inputChunks(io: Pick<Io, 'stdin' | 'stdinFd'>): AsyncIterable<Uint8Array> {
  const fd = io.stdinFd;
  if (fd === undefined) return io.stdin;
  let next = prefetched.get(fd);
  prefetched.delete(fd);
  return (async function* () {
    for (;;) {
      const r = await (next ?? readChunk(fd));
      next = undefined;
      if ('err' in r) {
        if (r.err.code !== 'EAGAIN') throw r.err;
        yield* io.stdin;
        return;
      }
      if (r.n === 0) return;
      yield r.buf.subarray(0, r.n);
    }
  })();
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

export function write(stream: Writable, text: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
