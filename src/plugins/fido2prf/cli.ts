/**
 * The `age-plugin-fido2prf` command line, as typage's Go plugin: `-generate RPID` (one or two
 * dashes, `-generate=RPID` too) and `--age-plugin=STATE_MACHINE`. The PIN prompt goes to stderr
 * and the PIN is read from the terminal (or stdin without one); the identity goes to stdout;
 * errors are printed as `Error: …` on stdout with exit code 1, as the reference does.
 */
import { parseGoFlags } from '../../term/goFlags.ts';
import { write, type Io } from '../../term/io.ts';
import { openPrompter } from '../../term/prompt.ts';
import { fido2DeviceSource } from '../../transport/fido2Devices.ts';
import { AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { generate } from './generate.ts';
import { T, USAGE } from './texts.ts';

export async function runCli(argv: readonly string[], io: Io, runStateMachine: (sm: string, io: Io) => Promise<number>): Promise<number> {
  let values: { generate?: string; 'age-plugin'?: string; help?: boolean };
  try {
    ({ values } = parseGoFlags(argv, { generate: { type: 'string' }, 'age-plugin': { type: 'string' }, help: { type: 'boolean', aliases: ['h'] } }));
  } catch (err) {
    await write(io.stderr, `${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    await write(io.stderr, `${USAGE}\n`);
    return 0;
  }
  const agePlugin = values['age-plugin'];
  const generateRp = values.generate;
  if (agePlugin !== undefined) return runStateMachine(agePlugin, io);
  if (generateRp === undefined) {
    await write(io.stderr, `${USAGE}\n`);
    return 2;
  }
  const keys = new AuthenticatorSet(fido2DeviceSource(io.env));
  const p = openPrompter(io.stdin as never, io.stderr);
  try {
    const pin = {
      interactive: true,
      pin: async (req: { prompt: string }) => {
        try {
          return await p.secret(req.prompt.replace(/:\s*$/, ''));
        } catch (err) {
          throw new Error(T.readPin((err as Error).message));
        }
      },
    };
    const g = await generate(keys, generateRp, pin, (name) => p.say(T.touchKey(name)));
    await write(io.stdout, `${g.line}\n`);
    return 0;
  } catch (err) {
    await write(io.stdout, `${T.errorLine((err as Error).message)}\n`);
    return 1;
  } finally {
    p.close();
    await keys.close();
  }
}
