/**
 * Shell completions for bash, zsh and fish, generated from the option definitions the parsers use
 * (src/term/spec.ts). One generator per shell; each takes the executables' specs and writes one
 * script (per executable when installed as files, all together for `keybridge completion SHELL`).
 */
import { flagNames, type CommandSpec, type OptionDef, type PositionalDef, type ProgramSpec } from '../term/spec.ts';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** One place in a command line where the same flags apply: `keybridge`, `keybridge bw`, `keybridge bw derive`. */
interface Node {
  readonly path: string[];
  readonly style: 'gnu' | 'go';
  /** Every option accepted here. */
  readonly options: Readonly<Record<string, OptionDef>>;
  /** The ones this node adds to its parent's (which apply below the parent too). */
  readonly ownOptions: Readonly<Record<string, OptionDef>>;
  /** Words that lead to a deeper node, with their summaries. */
  readonly children: readonly { name: string; summary: string }[];
  readonly positionals: readonly PositionalDef[];
}

function nodesOf(program: ProgramSpec): Node[] {
  const out: Node[] = [];
  const add = (path: string[], c: CommandSpec, extraChildren: readonly { name: string; summary: string }[] = []) => {
    const children = [...extraChildren, ...(c.subcommands ?? [])];
    const style = c.style ?? 'gnu';
    out.push({ path, style, options: c.options, ownOptions: c.options, children, positionals: c.positionals ?? [] });
    for (const s of c.subcommands ?? []) {
      const own = s.options ?? {};
      out.push({ path: [...path, s.name], style, options: { ...c.options, ...own }, ownOptions: own, children: [], positionals: s.positionals ?? [] });
    }
  };
  add([], program, program.commands ?? []);
  for (const c of program.commands ?? []) add([c.name], c);
  return out;
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
const fnName = (program: string) => '_' + program.replace(/[^A-Za-z0-9_]/g, '_');

/** What a value (of an option or a positional) completes to. */
function valueKind(v: { choices?: readonly string[]; complete?: 'file' | 'directory' }): string {
  if (v.choices) return `choices:${v.choices.join(' ')}`;
  return v.complete ?? 'any';
}

// ---------------------------------------------------------------------------------------------
// bash

const bashQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function bashProgram(program: ProgramSpec): string {
  const fn = fnName(program.name);
  const nodes = nodesOf(program);
  const key = (n: Node) => bashQuote(n.path.join(' '));
  const cases = (body: (n: Node) => string | null) =>
    nodes
      .map((n) => {
        const b = body(n);
        return b === null ? null : `    ${key(n)}) ${b} ;;`;
      })
      .filter((l): l is string => l !== null)
      .join('\n');
  const valueCases = nodes
    .flatMap((n) =>
      Object.entries(n.options).flatMap(([name, def]) =>
        def.type === 'string' ? flagNames(name, def, n.style).map((f) => `    ${bashQuote(`${n.path.join(' ')}|${f}`)}) echo ${bashQuote(valueKind(def))} ;;`) : [],
      ),
    )
    .join('\n');
  const positionalCases = nodes
    .flatMap((n) => n.positionals.map((p, i) => `    ${bashQuote(`${n.path.join(' ')}|${i}`)}) echo ${bashQuote(valueKind(p))} ;;`))
    .join('\n');
  return `# bash completion for ${program.name} (generated from its option definitions by keybridge)
${fn}_flags() {
  case $1 in
${cases((n) => `echo ${bashQuote(Object.entries(n.options).flatMap(([name, def]) => flagNames(name, def, n.style)).join(' '))}`)}
  esac
}
${fn}_children() {
  case $1 in
${cases((n) => (n.children.length ? `echo ${bashQuote(n.children.map((c) => c.name).join(' '))}` : null))}
  esac
}
# The completion of an option's value ("file", "directory", "choices:a b", "any"); fails for a flag without one.
${fn}_value() {
  case "$1|$2" in
${valueCases}
    *) return 1 ;;
  esac
}
${fn}_positional() {
  case "$1|$2" in
${positionalCases}
    *) return 1 ;;
  esac
}
${fn}_reply() {
  case $1 in
    file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
    directory) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;
    choices:*) COMPREPLY=($(compgen -W "\${1#choices:}" -- "$cur")) ;;
    *) COMPREPLY=() ;;
  esac
}
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev= path= npos=0 i=1 w kind children
  (( COMP_CWORD > 0 )) && prev=\${COMP_WORDS[COMP_CWORD-1]}
  if [[ $cur == = ]]; then cur=; elif [[ $prev == = ]] && (( COMP_CWORD > 1 )); then prev=\${COMP_WORDS[COMP_CWORD-2]}; fi
  while (( i < COMP_CWORD )); do
    w=\${COMP_WORDS[i]}
    if [[ $w == -* ]]; then
      if [[ \${COMP_WORDS[i+1]} == = ]]; then (( i += 2 )); elif ${fn}_value "$path" "$w" >/dev/null; then (( i++ )); fi
    elif [[ $w != = ]]; then
      children=$(${fn}_children "$path")
      if (( npos == 0 )) && [[ " $children " == *" $w "* ]]; then path=\${path:+$path }$w; else (( npos++ )); fi
    fi
    (( i++ ))
  done
  if kind=$(${fn}_value "$path" "$prev"); then ${fn}_reply "$kind"; return 0; fi
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$(${fn}_flags "$path")" -- "$cur")); return 0; fi
  children=$(${fn}_children "$path")
  if [[ -n $children ]] && (( npos == 0 )); then COMPREPLY=($(compgen -W "$children" -- "$cur")); return 0; fi
  if kind=$(${fn}_positional "$path" "$npos"); then ${fn}_reply "$kind"; fi
  return 0
}
complete -F ${fn} ${program.name}
`;
}

// ---------------------------------------------------------------------------------------------
// zsh

const zshQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const zshDesc = (s: string) => oneLine(s).replace(/\\/g, '\\\\').replace(/\[/g, '\\[').replace(/\]/g, '\\]');

function zshAction(v: { choices?: readonly string[]; complete?: 'file' | 'directory' }): string {
  if (v.choices) return `(${v.choices.join(' ')})`;
  if (v.complete === 'file') return '_files';
  if (v.complete === 'directory') return '_files -/';
  return ' ';
}

function zshOptionSpecs(n: Node): string[] {
  return Object.entries(n.options).map(([name, def]) => {
    const names = flagNames(name, def, n.style);
    const takes = def.type === 'string';
    const arg = takes ? `:${def.value ?? 'VALUE'}:${zshAction(def)}` : '';
    const repeat = def.multiple ? '*' : '';
    const suffix = takes ? '=' : '';
    const desc = `[${zshDesc(def.description)}]`;
    if (names.length === 1) return zshQuote(`${repeat}${names[0]}${suffix}${desc}${arg}`);
    const exclusive = def.multiple ? '*' : `(${names.join(' ')})`;
    return `${zshQuote(exclusive)}{${names.map((f) => f + suffix).join(',')}}${zshQuote(`${desc}${arg}`)}`;
  });
}

function zshPositionalSpecs(n: Node): string[] {
  return n.positionals.map((p, i) => zshQuote(`${i + 1}:${p.optional ? ':' : ''}${p.name}:${zshAction(p)}`));
}

function zshProgram(program: ProgramSpec): string {
  // The function is named like its file (_age-plugin-yubikey): zsh autoloads the file as that
  // function's body, and the body must then be the function itself from the second call on.
  const fn = `_${program.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const nodes = nodesOf(program);
  const fnOf = (n: Node) => (n.path.length ? `${fn}__${n.path.join('_').replace(/[^A-Za-z0-9_]/g, '_')}` : fn);
  const byParent = (n: Node) => nodes.filter((c) => c.path.length === n.path.length + 1 && c.path.slice(0, -1).join(' ') === n.path.join(' '));
  const lines: string[] = [`#compdef ${program.name}`, `# zsh completion for ${program.name} (generated from its option definitions by keybridge)`];
  for (const n of nodes) {
    const specs = [...zshOptionSpecs(n)];
    const kids = byParent(n);
    if (n.children.length) {
      specs.push(zshQuote('1:command:->command'), zshQuote('*::argument:->argument'));
      const described = n.children.map((c) => zshQuote(`${c.name}:${oneLine(c.summary)}`)).join(' ');
      lines.push(
        `${fnOf(n)}() {`,
        '  local curcontext=$curcontext state line ret=1',
        '  typeset -A opt_args',
        `  _arguments -C -s \\\n    ${specs.join(' \\\n    ')} && ret=0`,
        '  case $state in',
        `    command) local -a commands; commands=(${described}); _describe -t commands command commands && ret=0 ;;`,
        '    argument)',
        '      case $line[1] in',
        ...kids.map((k) => `        ${zshQuote(k.path[k.path.length - 1]!)}) ${fnOf(k)} && ret=0 ;;`),
        '      esac ;;',
        '  esac',
        '  return ret',
        '}',
      );
    } else {
      specs.push(...zshPositionalSpecs(n));
      lines.push(`${fnOf(n)}() {`, `  _arguments -s \\\n    ${specs.join(' \\\n    ')}`, '}');
    }
  }
  lines.push(`if [[ $zsh_eval_context[-1] == loadautofunc ]]; then`, `  ${fn} "$@"`, 'else', `  compdef ${fn} ${program.name}`, 'fi', '');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// fish

const fishQuote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fishProgram(program: ProgramSpec): string {
  const nodes = nodesOf(program);
  const cmd = program.name;
  const lines = [`# fish completion for ${cmd} (generated from its option definitions by keybridge)`, `complete -c ${cmd} -f`];
  for (const n of nodes) {
    // The condition under which this node's completions apply.
    const conds: string[] = [];
    if (n.path.length === 0) {
      if (n.children.length) conds.push(`__fish_use_subcommand`);
    } else {
      n.path.forEach((w, i) => {
        conds.push(`__fish_seen_subcommand_from ${w}`);
        if (i === n.path.length - 1 && n.children.length) conds.push(`not __fish_seen_subcommand_from ${n.children.map((c) => c.name).join(' ')}`);
      });
    }
    const cond = conds.length ? ` -n ${fishQuote(conds.join('; and '))}` : '';
    // Options apply from their node down (the root's only before a command): each listed once.
    {
      const optCond = n.path.length ? ` -n ${fishQuote(n.path.map((w) => `__fish_seen_subcommand_from ${w}`).join('; and '))}` : cond;
      for (const [name, def] of Object.entries(n.ownOptions)) {
        const flag = n.style === 'go' ? `-o ${name}` : name.length === 1 ? `-s ${name}` : `-l ${name}${def.short ? ` -s ${def.short}` : ''}`;
        let arg = '';
        if (def.type === 'string') {
          if (def.choices) arg = ` -x -a ${fishQuote(def.choices.join(' '))}`;
          else if (def.complete) arg = ' -r -F';
          else arg = ' -x';
        }
        lines.push(`complete -c ${cmd}${optCond} ${flag}${arg} -d ${fishQuote(oneLine(def.description))}`);
      }
    }
    for (const c of n.children) lines.push(`complete -c ${cmd}${cond} -a ${fishQuote(c.name)} -d ${fishQuote(oneLine(c.summary))}`);
    for (const p of n.positionals) {
      const pc = n.path.length ? ` -n ${fishQuote(n.path.map((w) => `__fish_seen_subcommand_from ${w}`).join('; and '))}` : '';
      if (p.choices) lines.push(`complete -c ${cmd}${pc} -a ${fishQuote(p.choices.join(' '))}`);
      else if (p.complete === 'file') lines.push(`complete -c ${cmd}${pc} -F`);
      else if (p.complete === 'directory') lines.push(`complete -c ${cmd}${pc} -a '(__fish_complete_directories)'`);
    }
  }
  return lines.join('\n') + '\n';
}

const GENERATORS: Record<Shell, (p: ProgramSpec) => string> = { bash: bashProgram, zsh: zshProgram, fish: fishProgram };

/** The completion script for `shell` covering `programs`. */
export function completionScript(shell: Shell, programs: readonly ProgramSpec[]): string {
  return programs.map((p) => GENERATORS[shell](p)).join('\n');
}

/** Where each shell looks for an installed completion file of `program`. */
export function completionFileName(shell: Shell, program: string): string {
  return shell === 'bash' ? `${program}.bash` : shell === 'zsh' ? `_${program}` : `${program}.fish`;
}
