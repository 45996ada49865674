/**
 * The `age-plugin-fido2prf` command line, as typage's Go plugin: `-generate RPID` (one or two
 * dashes, `-generate=RPID` too) and `--age-plugin=STATE_MACHINE`. The PIN prompt goes to stderr
 * and the PIN is read from the terminal (or stdin without one); the identity goes to stdout;
 * errors are printed as `Error: …` on stdout with exit code 1, as the reference does.
 */
import { write, type Io } from '../../term/io.ts';
import { openPrompter } from '../../term/prompt.ts';
import { fido2DeviceSource } from '../../transport/fido2Devices.ts';
import { AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { generate } from './generate.ts';
import { T, USAGE } from './texts.ts';

export async function runCli(argv: readonly string[], io: Io, runStateMachine: (sm: string, io: Io) => Promise<number>): Promise<number> {
  let generateRp: string | undefined;
  let agePlugin: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--?([a-z-]+)(?:=(.*))?$/s.exec(a);
    const name = m?.[1];
    const value = () => m?.[2] ?? argv[++i];
    if (name === 'generate') generateRp = value();
    else if (name === 'age-plugin') agePlugin = value();
    else if (name === 'h' || name === 'help') {
      await write(io.stderr, `${USAGE}\n`);
      return 0;
    } else {
      await write(io.stderr, `flag provided but not defined: ${a.slice(0, 40)}\n${USAGE}\n`);
      return 2;
    }
    if ((name === 'generate' && generateRp === undefined) || (name === 'age-plugin' && agePlugin === undefined)) {
      await write(io.stderr, `flag needs an argument: -${name}\n${USAGE}\n`);
      return 2;
    }
  }
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
