/**
 * A lone `--help` or `--version` (each spelling) is answered by the plugin's entry from the
 * family's about.ts (LONE_FLAGS, src/plugins/kit/main.ts) without loading the command line: the
 * answers must be the command line's own, byte for byte (stream, text, exit code), for every
 * spelling the command line takes as help or version alone; the built executables must give them
 * without loading the command line's code.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FlagAnswer, LoneFlags } from '../../src/plugins/kit/main.ts';
import type { Io } from '../../src/term/io.ts';
import { captureIo } from '../helpers/io.ts';
import { DIST, run } from '../helpers/run.ts';

const noCard = async (): Promise<never> => {
  throw new Error('no card access expected');
};
const noStateMachine = async (): Promise<never> => {
  throw new Error('no state machine expected');
};

interface Family {
  name: string;
  loneFlags: () => Promise<LoneFlags>;
  cli: (argv: string[], io: Io) => Promise<number>;
}

const FAMILIES: Family[] = [
  {
    name: 'yubikey',
    loneFlags: async () => (await import('../../src/plugins/yubikey/about.ts')).LONE_FLAGS,
    cli: async (argv, io) => (await import('../../src/plugins/yubikey/cli.ts')).runCli(argv, io, { readers: noCard, runStateMachine: noStateMachine }),
  },
  {
    name: 'picohsm',
    loneFlags: async () => (await import('../../src/plugins/picohsm/about.ts')).LONE_FLAGS,
    cli: async (argv, io) => (await import('../../src/plugins/picohsm/cli.ts')).runCli(argv, io, { readers: noCard, runStateMachine: noStateMachine }),
  },
  {
    name: 'fido2-hmac',
    loneFlags: async () => (await import('../../src/plugins/fido2-hmac/about.ts')).LONE_FLAGS,
    cli: async (argv, io) => (await import('../../src/plugins/fido2-hmac/cli.ts')).runCli(argv, io, noStateMachine),
  },
  {
    name: 'fido2prf',
    loneFlags: async () => (await import('../../src/plugins/fido2prf/about.ts')).LONE_FLAGS,
    cli: async (argv, io) => (await import('../../src/plugins/fido2prf/cli.ts')).runCli(argv, io, noStateMachine),
  },
];

/** Every spelling of help and version any of the replaced tools' grammars could take (one or two dashes, short and long). */
const CANDIDATES = ['-h', '--h', '-help', '--help', '-H', '-V', '--V', '-v', '--v', '-version', '--version', '-Version'];

interface Printed {
  code: number | null;
  stdout: string;
  stderr: string;
}
const printed = (a: FlagAnswer): Printed => ({ code: a.code, stdout: a.stream === 'stdout' ? a.text : '', stderr: a.stream === 'stderr' ? a.text : '' });

/** What the family's command line prints for `argv`, run in-process. */
async function commandLine(f: Family, argv: string[]): Promise<Printed> {
  const io = captureIo(`age-plugin-${f.name}`);
  const code = await f.cli(argv, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

const dir = mkdtempSync(join(tmpdir(), 'kb-lone-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(FAMILIES)('age-plugin-$name: lone --help/--version', (f) => {
  it("each answer is the command line's own, and every spelling the command line answers with help or version alone is in LONE_FLAGS", async () => {
    const flags = await f.loneFlags();
    expect(Object.keys(flags).length).toBeGreaterThan(0);
    for (const flag of Object.keys(flags)) expect(await commandLine(f, [flag]), flag).toEqual(printed(flags[flag]!));
    const answers = Object.values(flags).map(printed);
    for (const flag of CANDIDATES.filter((c) => !Object.hasOwn(flags, c))) {
      const r = await commandLine(f, [flag]);
      expect(answers, `${flag} is answered like a lone flag but is not in LONE_FLAGS`).not.toContainEqual(r);
      expect(r.code, flag).not.toBe(0);
    }
  });

  it('the built executable answers each lone flag as the command line does, without loading the command line', async () => {
    const flags = await f.loneFlags();
    const exe = join(DIST, `age-plugin-${f.name}.cjs`);
    for (const flag of Object.keys(flags)) {
      const loaded = mkdtempSync(join(dir, `${f.name}-`));
      const r = await run(process.execPath, [exe, flag], { input: '', env: { ...process.env, KEYBRIDGE_CODE_CACHE_OUT: loaded } });
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }, flag).toEqual(await commandLine(f, [flag]));
      const files = readdirSync(loaded);
      expect(files.some((file) => file.startsWith('about-')), flag).toBe(true);
      expect(files.filter((file) => /^(cli|plugin|family)-/.test(file)), flag).toEqual([]);
    }
    // anything else still goes to the command line: a flag twice is not a lone flag
    const [first] = Object.keys(flags);
    const twice = await run(process.execPath, [exe, first!, first!], { input: '' });
    expect({ code: twice.code, stdout: twice.stdout, stderr: twice.stderr }).toEqual(await commandLine(f, [first!, first!]));
  });
});

describe('age-plugin-picohsm --help', () => {
  it("names the environment variables as the plugin reads them (about.ts spells them out)", async () => {
    const { HELP } = await import('../../src/plugins/picohsm/about.ts');
    const { PIN_ENV, SKIP_NOT_FOUND_ENV } = await import('../../src/plugins/picohsm/strings.ts');
    expect(HELP).toMatch(new RegExp(`^  ${PIN_ENV} `, 'm'));
    expect(HELP).toMatch(new RegExp(`^  ${SKIP_NOT_FOUND_ENV}=1 `, 'm'));
  });
});
