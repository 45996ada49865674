/**
 * Go's `flag` package grammar, for the plugins that replace Go tools (age-plugin-fido2-hmac,
 * age-plugin-fido2prf): every flag may be written with one or two dashes (`-generate`,
 * `--generate`), values as `-a es256` or `-a=es256`, booleans as `-g` or `-g=false`, parsing stops
 * at the first non-flag argument or `--`, and Go's texts for errors (`flag provided but not
 * defined: -x`, `flag needs an argument: -a`). Names are given with their aliases.
 */
import { FlagError } from './flags.ts';

import type { OptionDef, OptionDefs } from './spec.ts';

/** An option (src/term/spec.ts) with the other names Go programs accept for it. */
export interface GoFlag extends OptionDef {
  /** Other names of the same flag (`g` for `generate`). */
  readonly aliases?: readonly string[];
}

/** The options of a Go flag table for completions and man pages: every name, aliases included. */
export function goOptionDefs(table: Readonly<Record<string, GoFlag>>): OptionDefs {
  return Object.fromEntries(Object.entries(table).flatMap(([name, { aliases, ...def }]) => [name, ...(aliases ?? [])].map((n) => [n, def] as const)));
}

export function parseGoFlags<const T extends Record<string, GoFlag>>(
  argv: readonly string[],
  table: T,
): { values: { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string }; positionals: string[] } {
  const byName = new Map<string, keyof T & string>();
  for (const [name, spec] of Object.entries(table)) for (const n of [name, ...(spec.aliases ?? [])]) byName.set(n, name);
  const values: Record<string, boolean | string> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positionals.push(...argv.slice(i));
      break;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const raw = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    const name = byName.get(raw);
    if (!name || raw.length === 0) throw new FlagError('syntax', `flag provided but not defined: -${raw.slice(0, 40)}`);
    if (table[name]!.type === 'boolean') {
      if (inline === undefined || inline === 'true' || inline === '1') values[name] = true;
      else if (inline === 'false' || inline === '0') values[name] = false;
      else throw new FlagError('syntax', `invalid boolean value "${inline.slice(0, 40)}" for -${raw}: parse error`);
      continue;
    }
    if (inline !== undefined) values[name] = inline;
    else {
      const v = argv[++i];
      if (v === undefined) throw new FlagError('syntax', `flag needs an argument: -${raw}`);
      values[name] = v;
    }
  }
  return { values: values as never, positionals };
}
