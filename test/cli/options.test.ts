/**
 * The shared option parser's errors: one line naming the flag, the closest valid one, and the
 * command's --help (issue: node's raw "Unknown option '--itme'. … as in '-- "--itme"" message).
 */
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { closestFlag } from '../../src/term/suggest.ts';
import { captureIo } from '../helpers/io.ts';

async function run(argv: string[]) {
  const t = captureIo('keybridge');
  const code = await main(argv, t);
  return { code, err: t.err(), out: t.out() };
}

describe('unknown options', () => {
  it('a typo gets one line with the flag, the closest valid one and --help', async () => {
    const r = await run(['bw', 'sync', '--itme', 'sops-x-ssh']);
    expect(r).toEqual({ code: 2, out: '', err: "keybridge bw: unknown option '--itme' (did you mean --item?); see 'keybridge bw --help'\n" });
  });

  it.each([
    [['validate', '--jsno'], '--json'],
    [['validate', '--no-key'], '--no-keys'],
    [['validate', '--bw-exprot', 'x'], '--bw-export'],
    [['sim', 'yubikey', '--seral', '3'], '--serial'],
    [['rig', '--yubkey'], '--yubikey'],
    [['demo', '--kep'], '--keep'],
  ])('%j suggests %s', async (argv, flag) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`(did you mean ${flag}?)`);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('nothing close: no guess, still the --help pointer; quotes balanced', async () => {
    const r = await run(['validate', '--frobnicate']);
    expect(r.err).toBe("keybridge validate: unknown option '--frobnicate'; see 'keybridge validate --help'\n");
    const r2 = await run(['rig', '-x']);
    expect(r2.err).toBe("keybridge rig: unknown option '-x'; see 'keybridge rig --help'\n");
    for (const e of [r.err, r2.err]) expect((e.match(/'/g) ?? []).length % 2).toBe(0);
  });

  it('--flag=value of an unknown flag names the flag only (the value may be a secret)', async () => {
    const r = await run(['validate', '--kyes=/home/u/keys.txt']);
    expect(r.err).toBe("keybridge validate: unknown option '--kyes' (did you mean --keys?); see 'keybridge validate --help'\n");
  });

  it('a hostile flag is shown bounded and printable', async () => {
    const r = await run(['validate', `--${'a'.repeat(5000)}\u001b[31m`]);
    expect(r.code).toBe(2);
    expect(r.err.length).toBeLessThan(160);
    expect(r.err).not.toMatch(/\u001b/);
  });
});

describe('other option errors are one line too', () => {
  it.each([
    [['validate', '--keys'], 'keybridge validate: option --keys needs a value (FILE)\n'],
    [['demo', '--keep=yes'], 'keybridge demo: option --keep takes no value\n'],
    [['demo', 'extra'], "keybridge demo: unexpected argument 'extra'\n"],
  ])('%j', async (argv, err) => {
    const r = await run(argv);
    expect(r).toEqual({ code: 2, out: '', err });
  });
});

describe('closestFlag', () => {
  const flags = ['--item', '--identity', '--json', '--file', '--dry-run', '--serve', '--export', '--help', '-h'];
  it('finds swaps, drops, additions and substitutions; not far-off words or single letters', () => {
    expect(closestFlag('--itme', flags)).toBe('--item');
    expect(closestFlag('--dryrun', flags)).toBe('--dry-run');
    expect(closestFlag('--jsonn', flags)).toBe('--json');
    expect(closestFlag('--exprot', flags)).toBe('--export');
    expect(closestFlag('--identiy', flags)).toBe('--identity');
    expect(closestFlag('--verbose', flags)).toBeUndefined();
    expect(closestFlag('-x', flags)).toBeUndefined();
  });
});
