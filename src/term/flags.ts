/**
 * The one command-line flag parser of every keybridge program: a flag table (node's
 * `util.parseArgs` option format), node's tokenizer, and declarative rules between flags (one
 * command at a time, a flag that only goes with another …). Two message styles:
 *
 *  - default: node's strict `parseArgs` semantics, with one-line messages naming the flag (and
 *    the closest valid one for a typo) instead of node's (the `keybridge` subcommands);
 *  - a `FlagSyntax`: the grammar of the tools a plugin replaces (a value flag takes the next
 *    argument whatever it looks like, `--` and `-` are not special, bundled short booleans), with
 *    that tool's texts for an unknown flag, a missing value and a free argument.
 *
 * Syntax errors and rule errors are both `FlagError`s (`kind` tells them apart, since tools print
 * them differently).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closestFlag, shown } from './suggest.ts';

export type FlagTable = NonNullable<ParseArgsConfig['options']>;

type Parsed<O extends FlagTable> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;
export type FlagValues<O extends FlagTable> = Parsed<O>['values'];

export class FlagError extends Error {
  constructor(
    readonly kind: 'syntax' | 'rule',
    message: string,
    /** For an unknown flag (node's semantics): the flag and the closest valid one. */
    readonly unknown?: { flag: string; suggestion: string | undefined },
  ) {
    super(message);
    this.name = 'FlagError';
  }
}

/**
 * node's parseArgs errors as one line each: the offending flag (bounded), for an unknown one the
 * closest valid flag, for a missing value its placeholder (a table entry's `value`, when it has one).
 */
function nodeFlagError(e: Error & { code?: string }, table: FlagTable): FlagError {
  const quoted = /'([^']*)'/.exec(e.message)?.[1] ?? '';
  const arg = quoted.replace(/ <value>$/, '');
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = arg.split('=')[0]!; // never echo an inline value: it may be a secret
    const valid = Object.entries(table).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
    const suggestion = closestFlag(flag, valid);
    return new FlagError('syntax', `unknown option '${shown(flag)}'${suggestion ? ` (did you mean ${suggestion}?)` : ''}`, { flag: shown(flag), suggestion });
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // node names the flag as '--name' or '-n, --name'
    const flag = arg.split(', ').pop()!;
    if (!/ argument missing$/.test(e.message)) return new FlagError('syntax', `option ${shown(flag)} takes no value`);
    const entry = table[flag.replace(/^--/, '')] as { value?: string } | undefined;
    return new FlagError('syntax', `option ${shown(arg.split(', ')[0]!)} needs a value${entry?.value ? ` (${entry.value})` : ''}`);
  }
  if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return new FlagError('syntax', `unexpected argument '${shown(arg)}'`);
  return new FlagError('syntax', e.message);
}

/** A replaced tool's grammar and texts (see the module comment). */
export interface FlagSyntax {
  unknown(arg: string): string;
  missing(flag: string): string;
  free(arg: string): string;
}

export interface ParseFlagsOptions {
  /** Accept positional arguments (default: none). */
  positionals?: boolean;
  /** The tool's grammar and texts; default: node's strict parseArgs. */
  syntax?: FlagSyntax;
}

export function parseFlags<const O extends FlagTable>(argv: string[], table: O, opts: ParseFlagsOptions = {}): { values: FlagValues<O>; positionals: string[] } {
  if (!opts.syntax) {
    try {
      const r = parseArgs({ args: argv, options: table, allowPositionals: opts.positionals ?? false, strict: true });
      return { values: r.values as FlagValues<O>, positionals: r.positionals };
    } catch (e) {
      throw nodeFlagError(e as Error, table);
    }
  }
  const syntax = opts.syntax;
  const { tokens } = parseArgs({ args: argv, options: table, allowPositionals: true, strict: false, tokens: true });
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const shorts = new Map(Object.entries(table).flatMap(([name, spec]) => (spec.short ? [[spec.short, name] as const] : [])));
  for (const t of tokens) {
    if (t.kind === 'option-terminator') throw new FlagError('syntax', syntax.unknown('--'));
    if (t.kind === 'positional') {
      if (t.value === '-') throw new FlagError('syntax', syntax.unknown('-'));
      if (!opts.positionals) throw new FlagError('syntax', syntax.free(t.value));
      positionals.push(t.value);
      continue;
    }
    const raw = argv[t.index]!;
    const grouped = !raw.startsWith('--') && raw.length > 2;
    if (grouped) {
      // Bundled short flags (-fg): every one must be a known boolean.
      const ok = [...raw.slice(1)].every((c) => table[shorts.get(c) ?? '']?.type === 'boolean');
      if (!ok) throw new FlagError('syntax', syntax.unknown(raw));
    }
    const spec = Object.hasOwn(table, t.name) ? table[t.name] : undefined;
    const known = spec && (t.rawName.startsWith('--') ? t.rawName === `--${t.name}` : spec.short === t.rawName.slice(1));
    if (!spec || !known) throw new FlagError('syntax', syntax.unknown(t.rawName));
    if (spec.type === 'boolean') {
      if (t.inlineValue) throw new FlagError('syntax', syntax.unknown(t.rawName));
      values[t.name] = true;
      continue;
    }
    if (t.value === undefined) throw new FlagError('syntax', syntax.missing(t.rawName));
    if (spec.multiple) ((values[t.name] ??= []) as string[]).push(t.value);
    else values[t.name] = t.value;
  }
  return { values: values as FlagValues<O>, positionals };
}

/** A rule between flags; `K` are the flag names. */
export type FlagRule<K extends string> =
  /** At most one of these (e.g. the commands). */
  | { atMostOne: readonly K[]; message: string }
  /** `flag` cannot be given with any of `with`; `message` names the other flag (`--list`). */
  | { flag: K; notWith: readonly K[]; message: (other: string) => string };

/** Checks the rules in order; the first broken one throws a `FlagError` of kind `rule`. */
export function checkFlagRules<K extends string>(values: Partial<Record<K, unknown>>, rules: readonly FlagRule<K>[]): void {
  const given = (k: K) => values[k] !== undefined && values[k] !== false;
  for (const rule of rules) {
    if ('atMostOne' in rule) {
      if (rule.atMostOne.filter(given).length > 1) throw new FlagError('rule', rule.message);
    } else if (given(rule.flag)) {
      const other = rule.notWith.find(given);
      if (other !== undefined) throw new FlagError('rule', rule.message(`--${other}`));
    }
  }
}
