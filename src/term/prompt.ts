/**
 * Asking the person at the keyboard: hidden secret entry and yes/no questions on the terminal
 * (`/dev/tty`, so redirected stdin/stdout do not matter), or — when there is no terminal at all —
 * answers read one per line from standard input, so scripts and CI can drive interactive flows.
 * Nothing typed is ever echoed or logged.
 */
import { openSync, closeSync } from 'node:fs';
import type { ReadStream, WriteStream } from 'node:tty';
import type { Readable, Writable } from 'node:stream';
import { builtin } from '../builtin.ts';

export { hasTerminal } from './terminal.ts';

export interface Prompter {
  /** Reads a secret without echo. Rejects with PromptError when input ends or is interrupted. */
  secret(prompt: string): Promise<string>;
  /** Reads a visible line. */
  line(prompt: string): Promise<string>;
  /** Writes an informational line where the user sees it. */
  say(text: string): void;
  close(): void;
}

export class PromptError extends Error {
  readonly code: 'NO_INPUT' | 'INTERRUPTED';
  constructor(code: 'NO_INPUT' | 'INTERRUPTED', message: string) {
    super(message);
    this.name = 'PromptError';
    this.code = code;
  }
}

/** A terminal prompter over a TTY pair (raw mode for secrets). */
class TtyPrompter implements Prompter {
  constructor(
    private readonly input: ReadStream,
    private readonly output: WriteStream,
    private readonly fds: number[],
  ) {}

  say(text: string): void {
    this.output.write(text + '\n');
  }

  private read(prompt: string, hidden: boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      const input = this.input;
      const chars: string[] = [];
      this.output.write(prompt);
      const wasRaw = input.isRaw;
      input.setRawMode(true);
      input.resume();
      const done = (err: Error | null) => {
        input.setRawMode(wasRaw);
        input.pause();
        input.off('data', onData);
        this.output.write('\n');
        if (err) reject(err);
        else resolve(chars.join(''));
      };
      const onData = (buf: Buffer) => {
        for (const ch of buf.toString('utf8')) {
          if (ch === '\r' || ch === '\n') return done(null);
          if (ch === '\u0003') return done(new PromptError('INTERRUPTED', 'Interrupted'));
          if (ch === '\u0004') return done(chars.length ? null : new PromptError('NO_INPUT', 'No input'));
          if (ch === '\u007f' || ch === '\b') {
            if (chars.pop() !== undefined && !hidden) this.output.write('\b \b');
            continue;
          }
          if (ch === '\u0015') {
            if (!hidden) this.output.write('\b \b'.repeat(chars.length));
            chars.length = 0;
            continue;
          }
          if (ch < ' ') continue;
          chars.push(ch);
          if (!hidden) this.output.write(ch);
        }
      };
      input.on('data', onData);
    });
  }

  secret(prompt: string): Promise<string> {
    return this.read(prompt + ': ', true);
  }
  line(prompt: string): Promise<string> {
    return this.read(prompt + ': ', false);
  }
  close(): void {
    this.input.destroy();
    this.output.destroy();
    for (const fd of this.fds) {
      try {
        closeSync(fd);
      } catch {
        /* already closed by the stream */
      }
    }
  }
}

/** Reads answers one per line from a non-terminal stream; prompts go to `output` (stderr). */
export class LinePrompter implements Prompter {
  private buffered = '';
  private ended = false;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
  ) {
    if (input.readableEnded || input.destroyed) this.ended = true;
    input.setEncoding('utf8');
    input.on('data', (d: string) => {
      this.buffered += d;
      this.wake();
    });
    input.on('end', () => {
      this.ended = true;
      this.wake();
    });
    input.on('error', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  say(text: string): void {
    this.output.write(text + '\n');
  }

  async line(prompt: string): Promise<string> {
    this.output.write(prompt + ': ');
    for (;;) {
      const nl = this.buffered.indexOf('\n');
      if (nl >= 0) {
        const line = this.buffered.slice(0, nl).replace(/\r$/, '');
        this.buffered = this.buffered.slice(nl + 1);
        this.output.write('\n');
        return line;
      }
      if (this.ended) {
        this.output.write('\n');
        if (this.buffered) {
          const rest = this.buffered;
          this.buffered = '';
          return rest;
        }
        throw new PromptError('NO_INPUT', 'No answer on standard input (and no terminal to ask on)');
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  secret(prompt: string): Promise<string> {
    return this.line(prompt);
  }

  close(): void {
    this.input.pause();
  }
}

/** node:tty, loaded when a terminal is opened: it brings node's net and stream modules, which a plugin start does not need. */
const tty = () => builtin('node:tty');

/** The controlling terminal (/dev/tty) only, or null: for programs whose stdin carries data. */
export function openTerminal(): Prompter | null {
  let inFd: number | undefined;
  try {
    inFd = openSync('/dev/tty', 'r');
    const outFd = openSync('/dev/tty', 'w');
    const { ReadStream, WriteStream } = tty();
    return new TtyPrompter(new ReadStream(inFd), new WriteStream(outFd), [inFd, outFd]);
  } catch {
    if (inFd !== undefined) closeSync(inFd);
    return null;
  }
}

/**
 * The terminal if there is one (stdin when it is a TTY, else /dev/tty), otherwise answers from
 * `stdin` one per line.
 */
export function openPrompter(stdin: Readable & { isTTY?: boolean; fd?: number }, stderr: Writable): Prompter {
  if (stdin.isTTY && typeof stdin.fd === 'number') {
    try {
      const outFd = openSync('/dev/tty', 'w');
      return new TtyPrompter(stdin as unknown as ReadStream, new (tty().WriteStream)(outFd), [outFd]);
    } catch {
      /* fall through */
    }
  }
  return openTerminal() ?? new LinePrompter(stdin, stderr);
}
