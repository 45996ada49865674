/**
 * The terminal boundary of every CLI: commands read and write through an `Io`, so tests run
 * them in-process with captured streams and a controlled environment.
 */
import type { Readable, Writable } from 'node:stream';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface Io {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** The name the program was invoked as, for messages like `<argv0>: <message>`. */
  readonly argv0: string;
}

export function processIo(argv0: string): Io {
  // The standard streams are created on first use: setting them up costs milliseconds at start.
  return {
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    env: process.env,
    cwd: process.cwd(),
    argv0,
  };
}

/** A failure a command reports as one line on stderr with an exit code (1 runtime, 2 usage). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
    /** A stable code for --json output. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
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

/** A subcommand: parses its own argv and returns the exit code. */
export interface Command {
  run(argv: string[], io: Io): Promise<number>;
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** node's strict parseArgs with typed values; a bad option is a UsageError (exit 2). */
export function parseCommandArgs<const O extends OptionsConfig>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
