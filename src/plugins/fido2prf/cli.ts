/**
 * The `age-plugin-fido2prf` command line, as typage's Go plugin: `-generate RPID` (one or two
 * dashes, `-generate=RPID` too) and `--age-plugin=STATE_MACHINE`. The PIN prompt goes to stderr
 * and the PIN is read from the terminal (or stdin without one); the identity goes to stdout;
 * errors are printed as `Error: …` on stdout with exit code 1, as the reference does.
 */
import { goOptionDefs, parseGoFlags, type GoFlag } from '../../term/goFlags.ts';
import type { ProgramSpec } from '../../term/spec.ts';
import { write, type Io } from '../../term/io.ts';
import { openPrompter } from '../../term/prompt.ts';
import { parseOrUsage } from '../kit/cli.ts';
import { T, TEXTS } from './texts.ts';
import { USAGE } from './about.ts';

/** The flags (Go's grammar, as the reference's), described for the parser, the completions and the man page. */
export const FLAGS = {
  generate: { type: 'string', value: 'RPID', description: 'generate a new credential for the relying party RPID and print its identity' },
  'age-plugin': { type: 'string', value: 'STATE-MACHINE', description: 'run the given age plugin state machine (internal use)' },
  help: { type: 'boolean', aliases: ['h'], description: 'show the help' },
} as const satisfies Record<string, GoFlag>;

/** age-plugin-fido2prf for its man page and completions. */
export const PROGRAM: ProgramSpec = {
  name: 'age-plugin-fido2prf',
  summary: "FIDO2 keys as symmetric age identities, compatible with typage's fido2prf",
  style: 'go',
  options: goOptionDefs(FLAGS),
  description: [
    "Uses a FIDO2 credential's PRF (hmac-secret) as a symmetric age identity, compatible with typage's fido2prf (browser passkeys and security keys through WebAuthn PRF, and its Go plugin): AGE-PLUGIN-FIDO2PRF-1… identities and age-encryption.org/fido2prf stanzas. Encrypt with age -e -i, decrypt with age -d -i; the key and its PIN are needed both ways.",
  ],
  environment: {
    KEYBRIDGE_FIDO2_TCP: 'HOST:PORT[,HOST:PORT…]: use these TCP endpoints as the only keys',
    AGE_PLUGIN_FIDO2PRF_SKIP_NOT_FOUND: 'when 1, decryption skips identities whose key is not plugged in instead of asking for it',
  },
  exitStatus: '0 success, 1 failure (printed as Error: … on stdout, like the reference), 2 usage error.',
  examples: ['age-plugin-fido2prf -generate example.com > prf.txt', 'age -e -i prf.txt -o secret.age secret.txt', 'age -d -i prf.txt secret.age'],
};

export async function runCli(argv: readonly string[], io: Io, runStateMachine: (sm: string, io: Io) => Promise<number>): Promise<number> {
  const values = await parseOrUsage(io, USAGE, () => parseGoFlags(argv, FLAGS).values);
  if (typeof values === 'number') return values;
  const agePlugin = values['age-plugin'];
  const generateRp = values.generate;
  if (agePlugin !== undefined) return runStateMachine(agePlugin, io);
  if (generateRp === undefined) {
    await write(io.stderr, `${USAGE}\n`);
    return 2;
  }
  // The CTAP2 code is loaded for -generate only: --help and the state machines start without it.
  const [{ AuthenticatorSet }, { fido2DeviceSource }, { generate }] = await Promise.all([import('../../tokens/ctap2/authenticators.ts'), import('../../transport/fido2Devices.ts'), import('./generate.ts')]);
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
    const g = await generate(keys, generateRp, pin, (name) => p.say(TEXTS.touch(name)));
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
