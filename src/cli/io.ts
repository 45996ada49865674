/**
 * The terminal boundary of every CLI: commands read and write through an `Io` (src/term/io.ts),
 * report failures as `CliError`s and parse their arguments strictly.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
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
  /** Its options, positionals and subcommands, which its parser uses (completions, man page). */
  readonly spec?: CommandArgs;
  run(argv: string[], io: Io): Promise<number>;
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** An argument no option of the command matches; main() adds the command's --help to the message. */
export class UnknownOptionError extends UsageError {
  constructor(
    readonly flag: string,
    readonly suggestion: string | undefined,
  ) {
    super(`unknown option '${flag}'${suggestion ? ` (did you mean ${suggestion}?)` : ''}`);
    this.name = 'UnknownOptionError';
  }
}

/** Restricted Damerau–Levenshtein distance (a swap of two neighbours counts as one edit). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/** The valid flag closest to `flag`, when one is close enough to be a typo of it. */
export function closestFlag(flag: string, valid: readonly string[]): string | undefined {
  let best: { flag: string; distance: number } | undefined;
  for (const v of valid) {
    const distance = editDistance(flag, v);
    if (!best || distance < best.distance) best = { flag: v, distance };
  }
  const name = flag.replace(/^-+/, '');
  if (name.length <= 1) return undefined; // one letter is too little to guess from
  const allowed = name.length <= 3 ? 1 : Math.max(2, Math.floor(name.length / 3));
  return best && best.distance <= allowed ? best.flag : undefined;
}

/** An argument as it may appear in a message: bounded, printable. */
export function shown(arg: string): string {
  const printable = arg.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 40 ? `${printable.slice(0, 40)}…` : printable;
}

/** node's strict parseArgs with typed values; a bad option is a UsageError (exit 2) in one line. */
export function parseCommandArgs<const O extends OptionsConfig>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    const flags = Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
    // The offending argument, as node's message quotes it.
    const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? '';
    const arg = quoted.replace(/ <value>$/, '');
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = arg.split('=')[0]!;
      throw new UnknownOptionError(shown(flag), closestFlag(flag, flags));
    }
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      if (!/ argument missing$/.test(err.message)) throw new UsageError(`option ${shown(arg)} takes no value`);
      const def = Object.entries(options).find(([name, o]) => arg === `--${name}` || arg === `-${o.short}` || arg.startsWith(`-${o.short}, --${name}`));
      const placeholder = def && (def[1] as { value?: string }).value;
      throw new UsageError(`option ${shown(arg.split(',')[0]!)} needs a value${placeholder ? ` (${placeholder})` : ''}`);
    }
    if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`unexpected argument '${shown(arg)}'`);
    throw new UsageError(err.message);
  }
}
