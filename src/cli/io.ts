/**
 * The terminal boundary of every CLI: commands read and write through an `Io` (src/term/io.ts),
 * report failures as `CliError`s and parse their arguments strictly.
 */
import { FlagError, parseFlags, type FlagTable } from '../term/flags.ts';
import type { Io } from '../term/io.ts';
import type { CommandArgs } from '../term/spec.ts';

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
  /**
   * Its options, positionals and subcommands, which its parser uses (completions, man page); a
   * function when they come from a registry (the virtual tokens).
   */
  readonly spec?: CommandArgs | (() => Promise<CommandArgs>);
  run(argv: string[], io: Io): Promise<number>;
}

/** An argument no option of the command matches; main() adds the command's --help to the message. */
export class UnknownOptionError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownOptionError';
  }
}

/** The flag parser (src/term/flags.ts) with node's strict semantics; a bad option is a UsageError (exit 2). */
export function parseCommandArgs<const O extends FlagTable>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseFlags(argv, options, { positionals: allowPositionals });
  } catch (e) {
    if (e instanceof FlagError && e.unknown) throw new UnknownOptionError(e.message);
    if (e instanceof FlagError) throw new UsageError(e.message);
    throw e;
  }
}
