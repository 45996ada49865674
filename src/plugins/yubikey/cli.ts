/**
 * The `age-plugin-yubikey` command line: the flags, defaults, rules between flags and outputs of
 * age-plugin-yubikey 0.5.0, plus `--json` and `--tag` for scripts. `--age-plugin=...` hands over to
 * the plugin protocol.
 */
import { FlagError } from '../../term/flags.ts';
import type { Io } from '../../term/io.ts';
import { uiToSlot, type PinPolicy, type TouchPolicy } from '../../tokens/piv/constants.ts';
import { PromptError } from '../../term/prompt.ts';
import { PivError } from '../../tokens/piv/errors.ts';
import type { CardReaders } from '../../transport/readers.ts';
import { VERSION } from '../../version.ts';
import { runPluginCli } from '../kit/cli.ts';
import type { CardCommandOptions } from './cardCommands.ts';
import { YubiKeyError, translateTransportError } from './errors.ts';
import { BINARY, REFERENCE_VERSION, S } from './strings.ts';

export const HELP = `Usage: ${BINARY} [OPTIONS]

Use YubiKeys (PIV, P-256) as age identities. Drop-in compatible with age-plugin-yubikey
${REFERENCE_VERSION}: same recipients (age1yubikey1…), identities (AGE-PLUGIN-YUBIKEY-1…) and stanzas.

Optional arguments:
  -h, --help                   Print this help message and exit.
  -V, --version                Print version info and exit.
  --age-plugin STATE-MACHINE   Run the given age plugin state machine. Internal use only.
  -f, --force                  Force --generate to overwrite a filled slot.
  -g, --generate               Generate a new YubiKey identity.
  -i, --identity               Print the identity stored in a YubiKey slot.
  -l, --list                   List all age identities in connected YubiKeys.
  --list-all                   List all YubiKey keys that are compatible with age.
  --name NAME                  Name for the generated identity. Defaults to 'age identity HEX_TAG'.
  --pin-policy PIN-POLICY      One of [always, once, never]. Defaults to 'once'.
  --serial SERIAL              Specify which YubiKey to use, if more than one is plugged in.
  --slot SLOT                  Specify which slot to use (1-20). Defaults to first usable slot.
  --touch-policy TOUCH-POLICY  One of [always, cached, never]. Defaults to 'always'.

keybridge additions:
  --tag                        With --list/--list-all: print age1tag1… recipients, which Go age >= 1.3,
                               rage >= 0.12 and typage encrypt to without any plugin installed.
  --json                       With --generate/--identity/--list/--list-all: print JSON.

Environment:
  AGE_PLUGIN_YUBIKEY_SKIP_NOT_FOUND=1   When decrypting, skip identities whose YubiKey is not
                                        plugged in instead of asking for it.

PINs are read from the terminal (or, with no terminal, one per line from standard input);
they are never taken from arguments.

Without a command, a guided setup asks which YubiKey, slot, name and policies to use and writes
age-yubikey-identity-<tag>.txt.

Examples:
  ${BINARY}                                    # guided setup
  ${BINARY} --generate > identity.txt        # new key in the first free slot (PIN once, touch always)
  ${BINARY} --list > recipients.txt           # recipients of every age key on plugged-in YubiKeys
  age -R recipients.txt -o secret.age secret.txt
  age -d -i identity.txt secret.age
`;

export const FLAGS = {
  force: { type: 'boolean', short: 'f' },
  generate: { type: 'boolean', short: 'g' },
  identity: { type: 'boolean', short: 'i' },
  list: { type: 'boolean', short: 'l' },
  'list-all': { type: 'boolean' },
  name: { type: 'string' },
  'pin-policy': { type: 'string' },
  serial: { type: 'string' },
  slot: { type: 'string' },
  'touch-policy': { type: 'string' },
  tag: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

const COMMANDS = ['generate', 'identity', 'list', 'list-all'] as const;

/** The reference's rules between flags, in the order it checks them. */
const RULES = [
  { atMostOne: COMMANDS, message: S.onlyOne },
  { flag: 'force', notWith: ['identity', 'list', 'list-all'], message: S.forceWith },
  { flag: 'list-all', notWith: ['slot'], message: () => S.listAllSlot },
] as const;

/** gumdrop's texts, as age-plugin-yubikey prints them. */
export const SYNTAX = {
  unknown: (arg: string) => `unrecognized option \`${arg}\``,
  missing: (flag: string) => `missing argument for option \`${flag}\``,
  free: (arg: string) => `unexpected free argument \`${arg}\``,
};

function usage(message: string): FlagError {
  return new FlagError('rule', message);
}

function parseSlot(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!(n >= 1 && n <= 20)) throw usage(S.invalidSlot(s));
  return uiToSlot(n);
}

function parseSerial(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s) || Number(s) > 0xffffffff) throw usage(S.invalidSerial(s));
  return Number(s);
}

function parsePinPolicy(s: string | undefined): Exclude<PinPolicy, 'default'> {
  if (s === undefined) return 'once';
  if (s === 'always' || s === 'once' || s === 'never') return s;
  throw usage(S.invalidPinPolicy(s));
}

function parseTouchPolicy(s: string | undefined): Exclude<TouchPolicy, 'default'> {
  if (s === undefined) return 'always';
  if (s === 'always' || s === 'cached' || s === 'never') return s;
  throw usage(S.invalidTouchPolicy(s));
}

export interface CliDeps {
  /** Opens the smart-card reader system (PC/SC in production). */
  readers: () => Promise<CardReaders>;
  /** Runs a plugin state machine; returns the exit code. */
  runStateMachine: (stateMachine: string, io: Io) => Promise<number>;
}

export async function runCli(argv: string[], io: Io, deps: CliDeps): Promise<number> {
  let readers: CardReaders | undefined;
  try {
    return await runPluginCli(argv, io, {
      binary: BINARY,
      help: HELP,
      version: `${BINARY} ${REFERENCE_VERSION} (keybridge ${VERSION})\n`,
      flags: FLAGS,
      rules: RULES,
      syntax: SYNTAX,
      stateMachine: deps.runStateMachine,
      async run(v, io2) {
        const slot = parseSlot(v.slot);
        const serial = parseSerial(v.serial);
        const pinPolicy = parsePinPolicy(v['pin-policy']);
        const touchPolicy = parseTouchPolicy(v['touch-policy']);
        readers = await deps.readers();
        if (!COMMANDS.some((c) => v[c])) {
          const { runSetup } = await import('./setup.ts');
          return runSetup(io2, readers, { force: v.force ?? false, ...(v.name !== undefined ? { name: v.name } : {}) });
        }
        const { runCardCommand } = await import('./cardCommands.ts');
        const opts: CardCommandOptions = {
          generate: v.generate ?? false,
          identity: v.identity ?? false,
          listAll: v['list-all'] ?? false,
          force: v.force ?? false,
          tag: v.tag ?? false,
          json: v.json ?? false,
          slot,
          serial,
          pinPolicy,
          touchPolicy,
          ...(v.name !== undefined ? { name: v.name } : {}),
        };
        return runCardCommand(opts, io2, readers);
      },
      describe(e) {
        const t = translateTransportError(e);
        if (t instanceof YubiKeyError || t instanceof PivError || t instanceof PromptError) return t.message;
        return undefined;
      },
    });
  } catch (e) {
    throw translateTransportError(e);
  } finally {
    await readers?.close().catch(() => undefined);
  }
}
