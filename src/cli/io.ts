/**
 * The terminal boundary of every CLI: commands read and write through an `Io` (src/term/io.ts),
 * report failures as `CliError`s and parse their arguments strictly.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Io } from '../term/io.ts';

export { processIo, readAll, write, type Io } from '../term/io.ts';

/** A failure a command reports as one line on stderr with an exit code (1 runtime, 2 usage). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
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
