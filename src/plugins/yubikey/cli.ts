/**
 * The `age-plugin-yubikey` command line: the flags, defaults, rules between flags and outputs of
 * age-plugin-yubikey 0.5.0, plus `--json` and `--tag` for scripts. `--age-plugin=...` hands over to
 * the plugin protocol.
 */
import type { Io } from '../../term/io.ts';
import { write } from '../../term/io.ts';
import { uiToSlot, type PinPolicy, type TouchPolicy } from '../../tokens/piv/constants.ts';
import { PromptError } from '../../term/prompt.ts';
import { PivError } from '../../tokens/piv/errors.ts';
import type { CardReaders } from '../../transport/readers.ts';
import { VERSION } from '../../version.ts';
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

export interface Options {
  help: boolean;
  version: boolean;
  agePlugin?: string;
  force: boolean;
  generate: boolean;
  identity: boolean;
  list: boolean;
  listAll: boolean;
  name?: string;
  pinPolicy?: string;
  serial?: string;
  slot?: string;
  touchPolicy?: string;
  tag: boolean;
  json: boolean;
}

export class UsageFail extends Error {}

const BOOL_FLAGS: Record<string, keyof Options> = {
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
const VALUE_FLAGS: Record<string, keyof Options> = {
  '--age-plugin': 'agePlugin',
  '--name': 'name',
  '--pin-policy': 'pinPolicy',
  '--serial': 'serial',
  '--slot': 'slot',
  '--touch-policy': 'touchPolicy',
};

export function parseOptions(argv: string[]): Options {
  const o: Options = { help: false, version: false, force: false, generate: false, identity: false, list: false, listAll: false, tag: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (BOOL_FLAGS[flag] && eq < 0) {
      (o as unknown as Record<string, unknown>)[BOOL_FLAGS[flag]!] = true;
    } else if (VALUE_FLAGS[flag]) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageFail(`missing argument for option \`${flag}\``);
      (o as unknown as Record<string, unknown>)[VALUE_FLAGS[flag]!] = value;
    } else if (/^-[a-zA-Z]{2,}$/.test(arg) && [...arg.slice(1)].every((c) => BOOL_FLAGS['-' + c])) {
      for (const c of arg.slice(1)) (o as unknown as Record<string, unknown>)[BOOL_FLAGS['-' + c]!] = true;
    } else if (arg.startsWith('-')) {
      throw new UsageFail(`unrecognized option \`${flag}\``);
    } else {
      throw new UsageFail(`unexpected free argument \`${arg}\``);
    }
  }
  return o;
}

function parseSlot(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!(n >= 1 && n <= 20)) throw new YubiKeyError('USAGE', S.invalidSlot(s));
  return uiToSlot(n);
}

function parseSerial(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s) || Number(s) > 0xffffffff) throw new UsageFail(`invalid serial '${s}' (expected a number)`);
  return Number(s);
}

function parsePinPolicy(s: string | undefined): Exclude<PinPolicy, 'default'> {
  if (s === undefined) return 'once';
  if (s === 'always' || s === 'once' || s === 'never') return s;
  throw new YubiKeyError('USAGE', S.invalidPinPolicy(s));
}

function parseTouchPolicy(s: string | undefined): Exclude<TouchPolicy, 'default'> {
  if (s === undefined) return 'always';
  if (s === 'always' || s === 'cached' || s === 'never') return s;
  throw new YubiKeyError('USAGE', S.invalidTouchPolicy(s));
}

export interface CliDeps {
  /** Opens the smart-card reader system (PC/SC in production). */
  readers: () => Promise<CardReaders>;
  /** Runs a plugin state machine; returns the exit code. */
  runStateMachine: (stateMachine: string, io: Io) => Promise<number>;
}

export async function runCli(argv: string[], io: Io, deps: CliDeps): Promise<number> {
  const err = (line: string) => io.stderr.write(line + '\n');
  let opts: Options;
  try {
    opts = parseOptions(argv);
  } catch (e) {
    if (e instanceof UsageFail) {
      err(`${BINARY}: ${e.message}`);
      err(`Run '${BINARY} --help' for usage.`);
      return 2;
    }
    throw e;
  }
  if (opts.help) {
    await write(io.stdout, HELP);
    return 0;
  }
  if (opts.agePlugin !== undefined) return deps.runStateMachine(opts.agePlugin, io);
  if (opts.version) {
    await write(io.stdout, `${BINARY} ${REFERENCE_VERSION} (keybridge ${VERSION})\n`);
    return 0;
  }

  let readers: CardReaders | undefined;
  try {
    const commands = [opts.generate, opts.identity, opts.list, opts.listAll].filter(Boolean).length;
    if (commands > 1) throw new YubiKeyError('USAGE', S.onlyOne);
    if (opts.force && opts.identity) throw new YubiKeyError('USAGE', S.forceWith('--identity'));
    if (opts.force && opts.list) throw new YubiKeyError('USAGE', S.forceWith('--list'));
    if (opts.force && opts.listAll) throw new YubiKeyError('USAGE', S.forceWith('--list-all'));
    if (opts.listAll && opts.slot !== undefined) throw new YubiKeyError('USAGE', S.listAllSlot);
    const slot = parseSlot(opts.slot);
    const serial = parseSerial(opts.serial);
    const pinPolicy = parsePinPolicy(opts.pinPolicy);
    const touchPolicy = parseTouchPolicy(opts.touchPolicy);

    readers = await deps.readers();
    if (commands === 0) {
      const { runSetup } = await import('./setup.ts');
      return await runSetup(io, readers, { force: opts.force, ...(opts.name !== undefined ? { name: opts.name } : {}) });
    }
    const { runCardCommand } = await import('./cardCommands.ts');
    return await runCardCommand({ ...opts, slot, serial, pinPolicy, touchPolicy }, io, readers);
  } catch (e) {
    const t = translateTransportError(e);
    if (t instanceof YubiKeyError) {
      err(t.code === 'USAGE' ? `Error: ${t.message}` : `Error: ${t.message}`);
      return t.code === 'USAGE' ? 2 : 1;
    }
    if (t instanceof PivError) {
      err(`Error: ${t.message}`);
      return 1;
    }
    if (t instanceof PromptError) {
      err(`Error: ${t.message}`);
      return 1;
    }
    throw t;
  } finally {
    await readers?.close().catch(() => undefined);
  }
}

