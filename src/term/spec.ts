/**
 * Option definitions, shared by the parsers, the shell completions and the man pages. A command's
 * parser reads its `OptionDefs` (node's parseArgs flag table format: `type`, `short`, `multiple`;
 * the rest is ignored by the parser); the generators in src/cli/completion.ts and manpage.ts read
 * the same objects, so a flag the parser accepts is a flag the completions offer. Below cli/ and
 * plugins/, so plugin binaries describe their flags with it too.
 */

export interface OptionDef {
  readonly type: 'boolean' | 'string';
  readonly short?: string;
  readonly multiple?: boolean;
  /** One line for completions and man pages. */
  readonly description: string;
  /** The value's placeholder (FILE, URL, N); string options only. */
  readonly value?: string;
  /** The values a string option accepts, when it is a fixed set. */
  readonly choices?: readonly string[];
  /** What a string option's value names, for completion. */
  readonly complete?: 'file' | 'directory';
}

export type OptionDefs = Readonly<Record<string, OptionDef>>;

export interface PositionalDef {
  readonly name: string;
  readonly description?: string;
  readonly choices?: readonly string[];
  readonly complete?: 'file' | 'directory';
  readonly optional?: boolean;
}

export interface SubcommandDef {
  readonly name: string;
  readonly summary: string;
  readonly positionals?: readonly PositionalDef[];
  /** Options of this subcommand besides the command's (`keybridge sim yubikey --serial`). */
  readonly options?: OptionDefs;
}

/** A keybridge subcommand (`keybridge validate`) or a whole executable. */
export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  /**
   * How flags are written: `gnu` (--long, -s; node's parseArgs) or `go` (-long or --long, as Go's
   * flag package and ssh-to-age).
   */
  readonly style?: 'gnu' | 'go';
  readonly options: OptionDefs;
  readonly positionals?: readonly PositionalDef[];
  /** First-word subcommands (`bw derive`, `sim yubikey`); the command's options apply after them too. */
  readonly subcommands?: readonly SubcommandDef[];
}

/** What a keybridge subcommand module declares; its name and summary live in commands.ts. */
export type CommandArgs = Omit<CommandSpec, 'name' | 'summary'>;

/** `-h, --help`, which every command has. */
export const HELP_OPTION = { type: 'boolean', short: 'h', description: 'show this help' } as const satisfies OptionDef;

/** An executable: its options, or its subcommands (each a CommandSpec) for `keybridge`. */
export interface ProgramSpec extends CommandSpec {
  readonly commands?: readonly CommandSpec[];
  /** Paragraphs for the man page's DESCRIPTION. */
  readonly description?: readonly string[];
  readonly environment?: Readonly<Record<string, string>>;
  readonly exitStatus?: string;
  readonly examples?: readonly string[];
}

/** The spellings a user types for an option: `--keys`, `-h` (gnu) or `-private-key` (go). */
export function flagNames(name: string, def: OptionDef, style: CommandSpec['style'] = 'gnu'): string[] {
  if (style === 'go') return [`-${name}`];
  return [`--${name}`, ...(def.short ? [`-${def.short}`] : [])];
}

/** Every spelling of every option of a command and its subcommands. */
export function allFlags(spec: CommandSpec): string[] {
  return Object.entries(spec.options).flatMap(([name, def]) => flagNames(name, def, spec.style));
}
