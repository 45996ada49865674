/**
 * age-plugin-fido2prf's command line as typage's Go plugin has it: the usage on stderr (exit 0 for
 * -h/--help, 2 for no command or a bad flag, with Go's flag messages), `Error: …` on stdout with
 * exit 1 for a failed -generate, exit 4 for an unknown state machine — byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { USAGE } from '../../../src/plugins/fido2prf/about.ts';
import { DIST, run } from '../../helpers/run.ts';

const BIN = `${DIST}/age-plugin-fido2prf.mjs`;
const cli = (...args: string[]) => run(process.execPath, [BIN, ...args], { input: '', noTty: true });

describe('age-plugin-fido2prf command line', () => {
  it('-h, --help and no command print the usage on stderr; bad flags exit 2 with the flag message first', async () => {
    for (const args of [['-h'], ['--help'], ['-help']]) {
      const r = await cli(...args);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }, args.join(' ')).toEqual({ code: 0, stdout: '', stderr: `${USAGE}\n` });
    }
    const none = await cli();
    expect({ code: none.code, stdout: none.stdout, stderr: none.stderr }).toEqual({ code: 2, stdout: '', stderr: `${USAGE}\n` });
    for (const [args, message] of [
      [['--bogus'], 'flag provided but not defined: -bogus'],
      [['-generate'], 'flag needs an argument: -generate'],
    ] as const) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`${message}\n${USAGE}\n`);
    }
  });

  it('-generate with a bad relying party: Error: … on stdout, exit 1, before any key is looked for', async () => {
    const r = await run(process.execPath, [BIN, '-generate', 'not a domain'], { input: '', noTty: true, env: { ...process.env, KEYBRIDGE_FIDO2_TCP: '127.0.0.1:1' } });
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 1, stdout: 'Error: the relying party id must be a domain name (e.g. example.com)\n', stderr: '' });
  });

  it('an unknown state machine exits 4 with one line on stderr', async () => {
    const r = await cli('--age-plugin=bogus-v1');
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 4, stdout: '', stderr: 'age-plugin-fido2prf: unknown state machine "bogus-v1" (this plugin speaks recipient-v1 and identity-v1)\n' });
  });
});
