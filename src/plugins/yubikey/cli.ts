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
import { KIT_FLAGS, runPluginCli } from '../kit/cli.ts';
import type { OptionDefs, ProgramSpec } from '../../term/spec.ts';
import type { CardCommandOptions } from './cardCommands.ts';
import { YubiKeyError, translateTransportError } from './errors.ts';
import { S } from './strings.ts';
import { BINARY, HELP, REFERENCE_VERSION, VERSION_LINE } from './about.ts';

/** The family's flags, described for the completions and the man page (src/cli/completion.ts). */
export const FLAGS = {
  force: { type: 'boolean', short: 'f', description: 'force --generate to overwrite a filled slot' },
  generate: { type: 'boolean', short: 'g', description: 'generate a new YubiKey identity' },
  identity: { type: 'boolean', short: 'i', description: 'print the identity stored in a YubiKey slot' },
  list: { type: 'boolean', short: 'l', description: 'list all age identities in connected YubiKeys' },
  'list-all': { type: 'boolean', description: 'list all YubiKey keys that are compatible with age' },
  name: { type: 'string', value: 'NAME', description: "name for the generated identity (default 'age identity' and the new key's tag in hex)" },
  'pin-policy': { type: 'string', value: 'PIN-POLICY', choices: ['always', 'once', 'never'], description: 'one of always, once, never (default once)' },
  serial: { type: 'string', value: 'SERIAL', description: 'which YubiKey to use, if more than one is plugged in' },
  slot: { type: 'string', value: 'SLOT', choices: Array.from({ length: 20 }, (_, i) => String(i + 1)), description: 'which slot to use (1-20; default the first usable slot)' },
  'touch-policy': { type: 'string', value: 'TOUCH-POLICY', choices: ['always', 'cached', 'never'], description: 'one of always, cached, never (default always)' },
  tag: { type: 'boolean', description: 'with --list/--list-all: print age1tag1… recipients, which Go age >= 1.3, rage >= 0.12 and typage encrypt to without a plugin' },
  json: { type: 'boolean', description: 'with --generate/--identity/--list/--list-all: print JSON' },
  pq: { type: 'boolean', description: 'with --generate: a post-quantum key (ML-KEM-768 + P-256, recipient age1tagpq1…; the ML-KEM seed is kept in the slot certificate)' },
} as const satisfies OptionDefs;

/** age-plugin-yubikey for its man page and completions: every flag its parser takes, and prose. */
export const PROGRAM: ProgramSpec = {
  name: BINARY,
  summary: `YubiKeys (PIV, P-256) as age identities, compatible with age-plugin-yubikey ${REFERENCE_VERSION}`,
  options: { ...KIT_FLAGS, ...FLAGS },
  description: [
    `Uses YubiKeys (PIV, P-256) as age identities. Drop-in compatible with age-plugin-yubikey ${REFERENCE_VERSION}: same recipients (age1yubikey1…), identities (AGE-PLUGIN-YUBIKEY-1…) and stanzas. age clients run it from PATH when a file or identity names the yubikey plugin.`,
    'Without a command, a guided setup asks which YubiKey, slot, name and policies to use and writes age-yubikey-identity-TAG.txt. PINs are read from the terminal (or, with no terminal, one per line from standard input), never from arguments.',
  ],
  environment: { AGE_PLUGIN_YUBIKEY_SKIP_NOT_FOUND: 'when 1, decryption skips identities whose YubiKey is not plugged in instead of asking for it' },
  exitStatus: '0 success, 1 failure, 2 usage error.',
  examples: [`${BINARY} --generate > identity.txt`, `${BINARY} --list > recipients.txt`, 'age -d -i identity.txt secret.age'],
};

const COMMANDS = ['generate', 'identity', 'list', 'list-all'] as const;

/** The reference's rules between flags, in the order it checks them. */
const RULES = [
  { atMostOne: COMMANDS, message: S.onlyOne },
  { flag: 'force', notWith: ['identity', 'list', 'list-all'], message: S.forceWith },
  { flag: 'list-all', notWith: ['slot'], message: () => S.listAllSlot },
  { flag: 'pq', notWith: ['identity', 'list', 'list-all'], message: () => S.pqOnlyWithGenerate },
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
      version: VERSION_LINE,
      flags: FLAGS,
      rules: RULES,
      syntax: SYNTAX,
      stateMachine: deps.runStateMachine,
      async run(v, io2) {
        const slot = parseSlot(v.slot);
        const serial = parseSerial(v.serial);
        const pinPolicy = parsePinPolicy(v['pin-policy']);
        const touchPolicy = parseTouchPolicy(v['touch-policy']);
        if (v.pq && !v.generate) throw usage(S.pqOnlyWithGenerate);
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
          pq: v.pq ?? false,
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
