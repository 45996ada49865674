/**
 * The `main` of every kit plugin binary: the family's flag table (plus `-h/--help`,
 * `-V/--version`, `--age-plugin`), the replaced tool's flag grammar and texts, rules between flags,
 * and exit codes: 0 success, 1 runtime failure, 2 usage, 4 unknown state machine (from the
 * protocol layer). `--age-plugin=…` hands over to the plugin protocol.
 */
import { checkFlagRules, FlagError, parseFlags, type FlagRule, type FlagSyntax, type FlagTable, type FlagValues } from '../../term/flags.ts';
import { write, type Io } from '../../term/io.ts';
import type { OptionDefs } from '../../term/spec.ts';

/** The flags every kit plugin has; with descriptions for its completions and man page. */
export const KIT_FLAGS = {
  help: { type: 'boolean', short: 'h', description: 'print this help message and exit' },
  version: { type: 'boolean', short: 'V', description: 'print version info and exit' },
  'age-plugin': { type: 'string', value: 'STATE-MACHINE', description: 'run the given age plugin state machine (internal use only)' },
} as const satisfies OptionDefs;

export type PluginFlags<O extends FlagTable> = typeof KIT_FLAGS & O;

export interface PluginCli<O extends FlagTable> {
  /** `age-plugin-NAME`, the prefix of syntax errors. */
  binary: string;
  help: string;
  /** The `--version` line, with its newline. */
  version: string;
  /** The family's flags (the kit adds help, version, age-plugin); described, as `OptionDefs`. */
  flags: O;
  rules: readonly FlagRule<keyof PluginFlags<O> & string>[];
  /** The replaced tool's grammar and texts (unknown flag, missing value, free argument). */
  syntax: FlagSyntax;
  stateMachine(name: string, io: Io): Promise<number>;
  /** The family's commands; usage problems found here are thrown as `FlagError('rule', …)`. */
  run(values: FlagValues<PluginFlags<O>>, io: Io): Promise<number>;
  /** The one-line message for a failure the family knows, or undefined to let it propagate. */
  describe(e: unknown): string | undefined;
}

export async function runPluginCli<O extends FlagTable>(argv: string[], io: Io, cli: PluginCli<O>): Promise<number> {
  const err = (line: string) => io.stderr.write(line + '\n');
  const table = { ...KIT_FLAGS, ...cli.flags } as PluginFlags<O>;
  let values: FlagValues<PluginFlags<O>>;
  try {
    ({ values } = parseFlags(argv, table, { syntax: cli.syntax }));
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    err(`${cli.binary}: ${e.message}`);
    err(`Run '${cli.binary} --help' for usage.`);
    return 2;
  }
  const v = values as Record<string, unknown>;
  if (v.help) {
    await write(io.stdout, cli.help);
    return 0;
  }
  if (typeof v['age-plugin'] === 'string') return cli.stateMachine(v['age-plugin'], io);
  if (v.version) {
    await write(io.stdout, cli.version);
    return 0;
  }
  try {
    checkFlagRules(v as Partial<Record<keyof PluginFlags<O> & string, unknown>>, cli.rules);
    return await cli.run(values, io);
  } catch (e) {
    if (e instanceof FlagError) {
      err(`Error: ${e.message}`);
      return 2;
    }
    const message = cli.describe(e);
    if (message === undefined) throw e;
    err(`Error: ${message}`);
    return 1;
  }
}

/**
 * The start of a command line that replaces a Go tool (`src/term/goFlags.ts`): the parsed flags,
 * or the exit code after printing `usage` — 2 for a usage error (with its message), 0 for `-h`.
 */
export async function parseOrUsage<V extends { help?: boolean | undefined }>(io: Io, usage: string, parse: () => V): Promise<V | number> {
  let values: V;
  try {
    values = parse();
  } catch (err) {
    await write(io.stderr, `${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  if (values.help) {
    await write(io.stderr, `${usage}\n`);
    return 0;
  }
  return values;
}
