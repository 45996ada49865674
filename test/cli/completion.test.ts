/**
 * Shell completions and man pages: generated from the option definitions the parsers use, for
 * every executable in package.json `bin`. The parsers are checked to accept exactly the defined
 * flags; the real bash and fish complete them; zsh, bash and fish parse the scripts; man renders
 * the pages.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureIo } from '../helpers/io.ts';
import { main } from '../../src/cli/main.ts';
import { programs } from '../../src/cli/programs.ts';
import { SHELLS, completionFileName, completionScript } from '../../src/cli/completion.ts';
import { manPage } from '../../src/cli/manpage.ts';
import { runSshToAge } from '../../src/cli/ssh-to-age.ts';
import { runCli } from '../../src/plugins/yubikey/cli.ts';
import { HELP as YUBIKEY_HELP } from '../../src/plugins/yubikey/about.ts';
import { allFlags, flagNames, type CommandSpec, type ProgramSpec } from '../../src/term/spec.ts';
import { DIST, ROOT, keybridge } from '../helpers/run.ts';
import { findTool, itWith } from '../helpers/tools.ts';

const bash = findTool('bash');
const zsh = findTool('zsh');
const fish = findTool('fish');
const man = findTool('man');

const io = () => captureIo('keybridge');

/** argv giving every option of `c` once, with a value its parser accepts. */
function everyFlag(c: CommandSpec): string[] {
  return Object.entries(c.options).flatMap(([name, def]) => {
    const flag = flagNames(name, def, c.style)[0]!;
    return def.type === 'string' ? [flag, def.choices?.[0] ?? '1'] : [flag];
  });
}

let progs: ProgramSpec[];
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; man: string[] };

beforeAll(async () => {
  progs = await programs();
});

describe('the executables and their definitions', () => {
  it('one program spec per package.json bin, and one man page each in the man field', () => {
    expect(progs.map((p) => p.name).sort()).toEqual(Object.keys(pkg.bin).sort());
    expect([...pkg.man].sort()).toEqual(Object.keys(pkg.bin).map((b) => `./dist/man/${b}.1`).sort());
  });

  it('keybridge: every command is described, with the summary its help lists', async () => {
    const kb = progs[0]!;
    const t = io();
    expect(await main(['--help'], t)).toBe(0);
    for (const c of kb.commands!) expect(t.out()).toContain(`  ${c.name}`);
    expect(kb.commands!.length).toBe([...t.out().matchAll(/^ {2}(\S+) {2,}/gm)].length);
  });

  it("keybridge: each command's parser accepts every defined flag and refuses others", async () => {
    for (const c of progs[0]!.commands!) {
      if (c.name === 'version') continue; // takes no arguments and ignores them
      // each subcommand with its own options, or the command's first subcommand, or none
      const leads = c.subcommands?.some((s) => s.options) ? c.subcommands.map((s) => ({ words: [c.name, s.name], options: { ...c.options, ...s.options } })) : [{ words: [c.name, ...(c.subcommands?.length ? [c.subcommands[0]!.name] : [])], options: c.options }];
      for (const { words, options } of leads) {
        const at = { ...c, options };
        const help = c.style === 'go' ? '-help' : '--help';
        const ok = io();
        const code = await main([...words, ...everyFlag(at), help], ok);
        expect({ command: words.join(' '), code, err: ok.err() }).toEqual({ command: words.join(' '), code: 0, err: '' });
        expect(ok.out(), c.name).toMatch(/Usage:/);
        for (const f of allFlags(at).filter((f) => f.startsWith('--'))) expect(ok.out(), `${words.join(' ')} --help mentions ${f}`).toContain(f);
        const bad = io();
        expect(await main([...words, c.style === 'go' ? '-no-such-flag' : '--no-such-flag'], bad), c.name).toBe(2);
      }
    }
  });

  it('ssh-to-age: the parser accepts every defined flag (Go syntax) and its help names each', async () => {
    const s = progs.find((p) => p.name === 'ssh-to-age')!;
    const t = io();
    expect(await runSshToAge([...everyFlag(s), '-help'], t)).toBe(0);
    for (const f of allFlags(s)) expect(t.out()).toContain(f);
  });

  it('age-plugin-yubikey: its parser (the kit plugin main) accepts every defined flag and refuses others; its --help names each', async () => {
    const y = progs.find((p) => p.name === 'age-plugin-yubikey')!;
    const deps = {
      readers: async () => {
        throw new Error('no card access expected');
      },
      runStateMachine: async () => 99,
    };
    const ok = io();
    // --help is answered after parsing, before the rules between flags and any card access.
    expect(await runCli([...everyFlag(y).filter((a, i, all) => a !== '--age-plugin' && all[i - 1] !== '--age-plugin'), '--help'], ok, deps)).toBe(0);
    expect(ok.out()).toBe(YUBIKEY_HELP);
    expect(await runCli(['--age-plugin', 'identity-v1'], io(), deps)).toBe(99);
    for (const f of allFlags(y)) expect(YUBIKEY_HELP, f).toContain(f);
    const longInHelp = new Set([...YUBIKEY_HELP.matchAll(/(?<![\w-])(--[a-z][\w-]*)/g)].map((m) => m[1]!));
    expect([...longInHelp].filter((f) => !allFlags(y).includes(f))).toEqual([]);
    const bad = io();
    expect(await runCli(['--no-such-flag'], bad, deps)).toBe(2);
  });
});

describe('completions', () => {
  const work = mkdtempSync(join(tmpdir(), 'keybridge-completion-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const script = (shell: (typeof SHELLS)[number]) => completionScript(shell, progs);

  /** Every command position of a program: its words and the spec whose flags apply there. */
  function positions(p: ProgramSpec): { words: string[]; spec: CommandSpec }[] {
    const out = [{ words: [p.name], spec: p as CommandSpec }];
    for (const c of p.commands ?? []) {
      out.push({ words: [p.name, c.name], spec: c });
      for (const s of c.subcommands ?? []) out.push({ words: [p.name, c.name, s.name], spec: { ...c, options: { ...c.options, ...s.options } } });
    }
    return out;
  }

  it('`keybridge completion SHELL` prints the generated script; another word is a usage error', async () => {
    for (const shell of SHELLS) {
      const r = await keybridge(['completion', shell]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(script(shell));
    }
    const r = await keybridge(['completion', 'tcsh']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('the build installed one file per shell and executable, the same scripts', () => {
    for (const p of progs)
      for (const shell of SHELLS) expect(readFileSync(join(DIST, 'completions', completionFileName(shell, p.name)), 'utf8'), `${shell} ${p.name}`).toBe(completionScript(shell, [p]));
  });

  itWith([bash])('bash: parses, and completes exactly the defined flags at every command position', () => {
    const file = join(work, 'all.bash');
    writeFileSync(file, script('bash'));
    execFileSync('bash', ['-n', file]);
    const cases = progs.flatMap(positions);
    const driver = cases
      .map(
        ({ words }, i) =>
          `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')} -); COMP_CWORD=${words.length}; COMPREPLY=(); $(complete -p ${words[0]} | sed 's/.*-F \\([^ ]*\\).*/\\1/'); echo "${i}:\${COMPREPLY[*]}"`,
      )
      .join('\n');
    const out = execFileSync('bash', ['-c', `source ${file}\n${driver}`], { encoding: 'utf8' });
    const got = new Map(out.trim().split('\n').map((l) => [Number(l.slice(0, l.indexOf(':'))), l.slice(l.indexOf(':') + 1).split(' ').filter(Boolean)]));
    cases.forEach(({ words, spec }, i) => expect(got.get(i)!.sort(), words.join(' ')).toEqual(allFlags(spec).sort()));
    // values and subcommands
    const value = execFileSync('bash', ['-c', `source ${file}; COMP_WORDS=(keybridge validate --format ''); COMP_CWORD=3; _keybridge; echo "\${COMPREPLY[*]}"; COMP_WORDS=(keybridge bw ''); COMP_CWORD=2; _keybridge; echo "\${COMPREPLY[*]}"; COMP_WORDS=(keybridge validate --keys x ''); COMP_CWORD=4; _keybridge; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8', cwd: ROOT });
    const [format, bw, repo] = value.trim().split('\n');
    expect(format).toBe('table json github');
    expect(bw).toBe('derive sync');
    expect(repo!.split(' ')).toContain('test'); // after a flag's value: REPO, a directory
    expect(repo!.split(' ')).not.toContain('package.json');
  });

  itWith([fish])('fish: parses, and offers every defined flag at every command position', () => {
    const file = join(work, 'all.fish');
    writeFileSync(file, script('fish'));
    execFileSync('fish', ['-n', file]);
    for (const { words, spec } of progs.flatMap(positions)) {
      const out = execFileSync('fish', ['-c', `source ${file}; complete -C '${words.join(' ')} -'`], { encoding: 'utf8' });
      const offered = new Set(out.split('\n').map((l) => l.split('\t')[0]!));
      for (const f of allFlags(spec)) expect(offered.has(f), `${words.join(' ')}: ${f} in ${[...offered].join(' ')}`).toBe(true);
    }
  });

  itWith([zsh])('zsh: parses, and real zsh completion offers exactly the defined flags at every command position', () => {
    const dir = join(work, 'zsh');
    mkdirSync(dir);
    for (const p of progs) writeFileSync(join(dir, completionFileName('zsh', p.name)), completionScript('zsh', [p]));
    for (const p of progs) execFileSync('zsh', ['-n', join(dir, completionFileName('zsh', p.name))]);
    const cases = progs.flatMap(positions);
    const lines = [...cases.map(({ words }) => `${words.join(' ')} -`), 'keybridge validate --format ', 'keybridge bw ', 'age-plugin-yubikey --touch-policy '];
    const out = execFileSync('zsh', ['-f', join(ROOT, 'test/helpers/zsh-complete.zsh'), dir, ...lines], { encoding: 'utf8', timeout: 120_000 });
    const got = new Map<number, Set<string>>();
    for (const l of out.split(/\r?\n/).map((x) => x.replace(/\r$/, '')).filter(Boolean)) {
      const n = Number(l.slice(0, l.indexOf(':')));
      got.set(n, (got.get(n) ?? new Set()).add(l.slice(l.indexOf(':') + 1)));
    }
    const sorted = (n: number) => [...(got.get(n) ?? [])].sort();
    cases.forEach(({ words, spec }, i) => expect(sorted(i + 1), words.join(' ')).toEqual(allFlags(spec).sort()));
    expect(sorted(cases.length + 1)).toEqual(['github', 'json', 'table']);
    expect(sorted(cases.length + 2)).toEqual(['derive', 'sync']);
    expect(sorted(cases.length + 3)).toEqual(['always', 'cached', 'never']);
  });
});

describe('man pages', () => {
  itWith([man])('render with man -l without warnings and name every flag', () => {
    for (const p of progs) {
      const page = join(DIST, 'man', `${p.name}.1`);
      expect(readFileSync(page, 'utf8')).toBe(manPage(p));
      const r = spawnSync('man', ['--warnings', '-l', page], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '200', LC_ALL: 'C.UTF-8', MANPAGER: 'cat', PAGER: 'cat' } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr, p.name).toBe('');
      expect(r.stdout).toContain(`${p.name} - ${p.summary}`);
      const specs: CommandSpec[] = [p, ...(p.commands ?? []), ...(p.commands ?? []).flatMap((c) => (c.subcommands ?? []).map((sub) => ({ ...c, options: sub.options ?? {} })))];
      for (const c of specs) for (const f of allFlags(c)) expect(r.stdout, `${p.name}: ${f}`).toContain(f);
      for (const c of p.commands ?? []) expect(r.stdout).toContain(`${p.name} ${c.name}`);
    }
  });
});
