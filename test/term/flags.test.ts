/**
 * The one flag parser: node's semantics for keybridge subcommands, and the reference grammar of
 * age-plugin-yubikey 0.5.0 (gumdrop), checked against the hand-written parser it replaced on
 * random command lines; rules between flags.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkFlagRules, FlagError, parseFlags } from '../../src/term/flags.ts';
import { FLAGS, SYNTAX } from '../../src/plugins/yubikey/cli.ts';

// The parser age-plugin-yubikey had before the flag parser existed (its grammar is the oracle).
class UsageFail extends Error {}
interface Options {
  [k: string]: unknown;
}
const BOOL_FLAGS: Record<string, string> = {
  '-h': 'help',
  '--help': 'help',
  '-V': 'version',
  '--version': 'version',
  '-f': 'force',
  '--force': 'force',
  '-g': 'generate',
  '--generate': 'generate',
  '-i': 'identity',
  '--identity': 'identity',
  '-l': 'list',
  '--list': 'list',
  '--list-all': 'listAll',
  '--tag': 'tag',
  '--json': 'json',
};
const VALUE_FLAGS: Record<string, string> = {
  '--age-plugin': 'agePlugin',
  '--name': 'name',
  '--pin-policy': 'pinPolicy',
  '--serial': 'serial',
  '--slot': 'slot',
  '--touch-policy': 'touchPolicy',
};

function parseOptions(argv: string[]): Options {
  const o: Options = { help: false, version: false, force: false, generate: false, identity: false, list: false, listAll: false, tag: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (BOOL_FLAGS[flag] && eq < 0) {
      o[BOOL_FLAGS[flag]!] = true;
    } else if (VALUE_FLAGS[flag]) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageFail(`missing argument for option \`${flag}\``);
      o[VALUE_FLAGS[flag]!] = value;
    } else if (/^-[a-zA-Z]{2,}$/.test(arg) && [...arg.slice(1)].every((c) => BOOL_FLAGS['-' + c])) {
      for (const c of arg.slice(1)) o[BOOL_FLAGS['-' + c]!] = true;
    } else if (arg.startsWith('-')) {
      throw new UsageFail(`unrecognized option \`${flag}\``);
    } else {
      throw new UsageFail(`unexpected free argument \`${arg}\``);
    }
  }
  return o;
}

const TABLE = { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'V' }, 'age-plugin': { type: 'string' }, ...FLAGS } as const;

const camel = (k: string) => k.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

function viaNew(argv: string[]): unknown {
  try {
    const { values } = parseFlags(argv, TABLE, { syntax: SYNTAX });
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [camel(k), v]));
  } catch (e) {
    if (e instanceof FlagError) return { error: e.message };
    throw e;
  }
}

function viaOld(argv: string[]): unknown {
  try {
    const o = parseOptions(argv);
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== false));
  } catch (e) {
    if (e instanceof UsageFail) return { error: e.message };
    throw e;
  }
}

const WORDS = ['-h', '--help', '-V', '-f', '-g', '-i', '-l', '-fg', '-gf', '-fx', '-x', '--list-all', '--tag', '--json', '--force=1', '--bogus', '--bogus=2', '--', '-', 'free', '--name', '--name=', '--name=a=b', '--slot', '--slot=3', '3', '--serial', '--age-plugin', '--age-plugin=identity-v1', '--pin-policy', '--touch-policy=never', '-h1', '--Force'];

describe('the reference grammar (age-plugin-yubikey)', () => {
  it('agrees with the parser it replaced on random command lines', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...WORDS), { maxLength: 6 }), (argv) => {
        expect(viaNew(argv)).toEqual(viaOld(argv));
      }),
      { numRuns: 3000, seed: 10 },
    );
  });

  it('a value flag takes the next argument whatever it is', () => {
    expect(parseFlags(['--name', '--force'], TABLE, { syntax: SYNTAX }).values).toEqual({ name: '--force' });
  });
});

describe("node's strict semantics (keybridge subcommands)", () => {
  it("node's semantics, with one-line messages naming the flag (issue 18: not node's raw text)", () => {
    const t = { keep: { type: 'boolean' }, state: { type: 'string', value: 'FILE' } } as const;
    expect(parseFlags(['--keep', '--state', 'x'], t).values).toEqual({ keep: true, state: 'x' });
    expect(() => parseFlags(['--state'], t)).toThrow(/^option --state needs a value \(FILE\)$/);
    expect(() => parseFlags(['--keep=1'], t)).toThrow(/^option --keep takes no value$/);
    expect(() => parseFlags(['x'], t)).toThrow(/^unexpected argument 'x'$/);
    expect(() => parseFlags(['--stat'], t)).toThrow(/^unknown option '--stat' \(did you mean --state\?\)$/);
    expect(parseFlags(['x'], t, { positionals: true }).positionals).toEqual(['x']);
  });
});

describe('rules between flags', () => {
  const rules = [
    { atMostOne: ['generate', 'identity', 'list'], message: 'only one' },
    { flag: 'force', notWith: ['identity', 'list'], message: (o: string) => `--force not with ${o}` },
  ] as const;
  it('checks them in order; false and absent flags do not count', () => {
    expect(() => checkFlagRules({ generate: true, list: true }, rules)).toThrow('only one');
    expect(() => checkFlagRules({ force: true, list: true }, rules)).toThrow('--force not with --list');
    expect(() => checkFlagRules({ force: true, generate: true, list: false }, rules)).not.toThrow();
    expect(() => checkFlagRules({ identity: true, force: true }, rules)).toThrow(expect.objectContaining({ kind: 'rule' }));
  });
});
