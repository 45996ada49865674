/**
 * man pages (roff, man(7) macros) generated from the same option definitions as the parsers and
 * the completions: one page per executable; keybridge's page has a section per command.
 */
import { flagNames, type CommandSpec, type OptionDefs, type ProgramSpec } from '../term/spec.ts';
import { VERSION } from '../version.ts';

/** Text for roff: backslashes and dashes escaped, no line starting with a control character. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

function optionItems(options: OptionDefs, style: CommandSpec['style']): string[] {
  return Object.entries(options).flatMap(([name, def]) => {
    const names = flagNames(name, def, style)
      .sort((a, b) => a.length - b.length)
      .map((f) => `\\fB${roff(f)}\\fR`)
      .join(', ');
    const value = def.type === 'string' ? ` \\fI${roff(def.value ?? 'VALUE')}\\fR` : '';
    const choices = def.choices && def.choices.length <= 8 ? ` (${def.choices.map((c) => `\\fB${roff(c)}\\fR`).join(', ')})` : '';
    const repeat = def.multiple ? ' (repeatable)' : '';
    return ['.TP', `${names}${value}`, `${roff(def.description)}${choices}${repeat}`];
  });
}

function synopsisOf(c: CommandSpec, prefix: string): string {
  const words = [`\\fB${roff(prefix)}\\fR`];
  if (c.subcommands?.length) words.push(`{${c.subcommands.map((s) => `\\fB${roff(s.name)}\\fR`).join('|')}}`);
  for (const p of c.positionals ?? []) words.push(p.optional ? `[\\fI${roff(p.name)}\\fR]` : `\\fI${roff(p.name)}\\fR`);
  if (Object.keys(c.options).length) words.push('[\\fIoptions\\fR]');
  return words.join(' ');
}

export function manPage(p: ProgramSpec): string {
  const out = [
    `.TH ${roff(p.name.toUpperCase())} 1 "" "keybridge ${VERSION}" "User Commands"`,
    // No hyphenation, ragged right: flags, keys and paths must not be split.
    '.nh',
    '.ad l',
    '.SH NAME',
    `${roff(p.name)} \\- ${roff(p.summary)}`,
    '.SH SYNOPSIS',
    p.commands?.length ? `\\fB${roff(p.name)}\\fR \\fIcommand\\fR [\\fIoptions\\fR]` : synopsisOf(p, p.name),
    '.SH DESCRIPTION',
    ...(p.description ?? [p.summary]).flatMap((para) => ['.PP', roff(para)]),
  ];
  if (Object.keys(p.options).length) out.push('.SH OPTIONS', ...optionItems(p.options, p.style));
  if (p.commands?.length) {
    out.push('.SH COMMANDS');
    for (const c of p.commands) {
      out.push(`.SS ${roff(c.name)}`, synopsisOf(c, `${p.name} ${c.name}`), '.PP', roff(c.summary));
      for (const s of c.subcommands ?? []) out.push('.TP', `\\fB${roff(`${p.name} ${c.name} ${s.name}`)}\\fR`, roff(s.summary));
      for (const s of c.subcommands ?? []) if (s.options && Object.keys(s.options).length) out.push('.PP', `Options of ${roff(`${c.name} ${s.name}`)}:`, ...optionItems(s.options, c.style));
      for (const a of c.positionals ?? []) if (a.description) out.push('.TP', `\\fI${roff(a.name)}\\fR`, roff(a.description));
      if (Object.keys(c.options).length) out.push('.PP', 'Options:', ...optionItems(c.options, c.style));
    }
  }
  if (p.environment && Object.keys(p.environment).length) {
    out.push('.SH ENVIRONMENT');
    for (const [k, v] of Object.entries(p.environment)) out.push('.TP', `\\fB${roff(k)}\\fR`, roff(v));
  }
  if (p.exitStatus) out.push('.SH EXIT STATUS', roff(p.exitStatus));
  if (p.examples?.length) out.push('.SH EXAMPLES', '.nf', ...p.examples.map((e) => roff(e)), '.fi');
  out.push('.SH SEE ALSO', '\\fBage\\fR(1), \\fBage\\-keygen\\fR(1), \\fBsops\\fR(1), the keybridge README');
  return out.join('\n') + '\n';
}
