import { describe, expect, it } from 'vitest';
import { captureIo } from '../../helpers/io.ts';
import { runCli } from '../../../src/plugins/yubikey/cli.ts';

const io = () => captureIo('age-plugin-yubikey');

const deps = {
  readers: async () => {
    throw new Error('no card access expected');
  },
  runStateMachine: async (sm: string) => (sm === 'identity-v1' ? 42 : 43),
};

describe('age-plugin-yubikey flag rules (as the reference)', () => {
  const cases: [string[], number, string][] = [
    [['--generate', '--list'], 2, 'Error: Only one of --generate, --identity, --list, --list-all can be specified.'],
    [['-i', '-l'], 2, 'Error: Only one of --generate, --identity, --list, --list-all can be specified.'],
    [['--identity', '--force'], 2, "Error: Flag '--force' cannot be used with '--identity'."],
    [['--list', '-f'], 2, "Error: Flag '--force' cannot be used with '--list'."],
    [['--list-all', '--slot', '3'], 2, 'Error: Use --list to print the recipient for a single slot.'],
    [['--generate', '--slot', '21'], 2, "Error: Invalid slot '21' (expected number between 1 and 20)."],
    [['--generate', '--slot=0'], 2, "Error: Invalid slot '0' (expected number between 1 and 20)."],
    [['--generate', '--pin-policy', 'sometimes'], 2, "Error: Invalid PIN policy 'sometimes' (expected [always, once, never])."],
    [['--generate', '--touch-policy', 'maybe'], 2, "Error: Invalid touch policy 'maybe' (expected [always, cached, never])."],
    [['--bogus'], 2, 'age-plugin-yubikey: unrecognized option `--bogus`'],
    [['--serial'], 2, 'age-plugin-yubikey: missing argument for option `--serial`'],
  ];
  for (const [argv, code, message] of cases) {
    it(`${argv.join(' ')} → exit ${code}`, async () => {
      const t = io();
      expect(await runCli(argv, t, deps)).toBe(code);
      expect(t.err().split('\n')[0]).toBe(message);
      expect(t.out()).toBe('');
    });
  }

  it('--help, --version and --age-plugin dispatch', async () => {
    let t = io();
    expect(await runCli(['--help'], t, deps)).toBe(0);
    expect(t.out()).toContain('--pin-policy PIN-POLICY');
    t = io();
    expect(await runCli(['-V'], t, deps)).toBe(0);
    expect(t.out()).toMatch(/^age-plugin-yubikey 0\.5\.0 \(keybridge [\d.]+/);
    expect(await runCli(['--age-plugin=identity-v1'], io(), deps)).toBe(42);
    expect(await runCli(['--age-plugin', 'recipient-v1'], io(), deps)).toBe(43);
  });
});

describe('age-plugin-yubikey flag values (keybridge)', () => {
  it('a serial that is not a number is a usage error, not an internal one', async () => {
    const t = io();
    expect(await runCli(['--list', '--serial', '12ab'], t, deps)).toBe(2);
    expect(t.err()).toBe("Error: Invalid serial '12ab' (expected a number).\n");
  });
});
