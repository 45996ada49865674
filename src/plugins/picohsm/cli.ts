/**
 * The `age-plugin-picohsm` command line: pinpox/age-plugin-picohsm 0.1.0's flags (`--generate
 * --label NAME`, `--list`, `--convert IDENTITY`, `--version`, `--pin`, `--module`; Go-style
 * `-flag` spelling accepted) plus `--key-type`, `--list-all`, `--serial` and `--json`.
 * `--age-plugin=…` anywhere hands over to the plugin protocol before any parsing, as pinpox does.
 */
import { parseArgs } from 'node:util';
import type { Io } from '../../term/io.ts';
import { write } from '../../term/io.ts';
import { PromptError } from '../../term/prompt.ts';
import { TokenError } from '../../tokens/errors.ts';
import type { CardReaders } from '../../transport/readers.ts';
import { PicoHsmError } from './errors.ts';
import type { OptionDefs, ProgramSpec } from '../../term/spec.ts';
import { MODULE_ENV, PIN_ENV, S, SKIP_NOT_FOUND_ENV } from './strings.ts';
import { BINARY, HELP, REFERENCE_VERSION, USAGE, VERSION_LINE } from './about.ts';

export interface Options {
  help: boolean;
  version: boolean;
  generate: boolean;
  label?: string;
  keyType: 'p256' | 'x25519';
  pq: boolean;
  list: boolean;
  listAll: boolean;
  convert?: string;
  serial?: string;
  json: boolean;
  pin?: string;
  module?: string;
}

export class UsageFail extends Error {}

const SPEC = {
  help: { type: 'boolean', short: 'h', description: 'print this help message and exit' },
  version: { type: 'boolean', short: 'V', description: 'print the version and exit' },
  generate: { type: 'boolean', description: 'generate a key on the Pico HSM and print its identity file' },
  label: { type: 'string', value: 'NAME', description: 'with --generate: the key\'s label (required)' },
  'key-type': { type: 'string', value: 'TYPE', choices: ['p256', 'x25519'], description: 'with --generate: p256 (default) or x25519 (a plain age1… recipient)' },
  pq: { type: 'boolean', description: 'with --generate: a post-quantum key (mlkem768p256tag, an age1tagpq1… recipient)' },
  list: { type: 'boolean', description: 'list the age keys keybridge made on plugged-in Pico HSMs' },
  'list-all': { type: 'boolean', description: 'also list keys made by other tools that can serve as age keys' },
  convert: { type: 'string', value: 'IDENTITY', complete: 'file', description: 'print the recipient of an identity (a string or a file); no PIN needed' },
  serial: { type: 'string', value: 'SERIAL', description: 'which Pico HSM, when several are plugged in' },
  json: { type: 'boolean', description: 'with --generate, --list, --list-all, --convert: print JSON' },
  pin: { type: 'string', value: 'PIN', description: 'drop-in use only: the PIN (visible to other users; leave it out to be asked)' },
  module: { type: 'string', value: 'PATH', complete: 'file', description: 'accepted for compatibility and not used (no PKCS#11 module is needed)' },
  'age-plugin': { type: 'string', value: 'STATE-MACHINE', description: 'run the given age plugin state machine (internal use only)' },
} as const satisfies OptionDefs;

/** age-plugin-picohsm for its man page and completions: every flag its parser takes, and prose. */
export const PROGRAM: ProgramSpec = {
  name: BINARY,
  summary: `Pico HSMs (SmartCard-HSM) as age identities, compatible with pinpox/age-plugin-picohsm ${REFERENCE_VERSION}`,
  style: 'go',
  options: SPEC,
  description: [
    `Uses Pico HSMs (the SmartCard-HSM application, over PC/SC) as age identities, compatible with pinpox/age-plugin-picohsm ${REFERENCE_VERSION}: same age1picohsm1… recipients, AGE-PLUGIN-PICOHSM-1… identities and picohsm stanzas. X25519 keys (--key-type x25519) have plain age1… recipients; P-256 keys also an age1tag1… form.`,
    'The PIN is asked on the terminal only when a stanza is for a key on the device; --pin and PICOHSM_PIN are accepted for drop-in use with a warning.',
  ],
  environment: { [SKIP_NOT_FOUND_ENV]: 'when 1, decryption skips identities whose Pico HSM is not plugged in instead of asking for it', [PIN_ENV]: 'the PIN (drop-in use; visible to your other processes)' },
  exitStatus: '0 success, 1 failure, 2 usage error.',
  examples: [`${BINARY} --generate --label laptop --key-type x25519 > identity.txt`, `${BINARY} --list > recipients.txt`, 'age -d -i identity.txt secret.age'],
};

/** Parses argv; Go's single-dash long flags (`-generate`, `-label=x`) are accepted as pinpox's are. */
export function parseOptions(argv: string[]): Options {
  const args = argv.map((a) => (/^-[a-z][a-z-]+(=.*)?$/s.test(a) && !/^-[hV]$/.test(a) ? `-${a}` : a));
  let values;
  try {
    ({ values } = parseArgs({ args, options: SPEC, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new UsageFail((e as Error).message);
  }
  const keyType = values['key-type'] ?? 'p256';
  if (keyType !== 'p256' && keyType !== 'x25519') throw new UsageFail(S.invalidKeyType(keyType.slice(0, 40)));
  const o: Options = {
    help: values.help ?? false,
    version: values.version ?? false,
    generate: values.generate ?? false,
    keyType,
    pq: values.pq ?? false,
    list: values.list ?? false,
    listAll: values['list-all'] ?? false,
    json: values.json ?? false,
  };
  for (const k of ['label', 'convert', 'serial', 'pin', 'module'] as const) if (values[k] !== undefined) o[k] = values[k];
  const commands = [o.generate, o.list, o.listAll, o.convert !== undefined].filter(Boolean).length;
  if (commands > 1) throw new UsageFail(S.onlyOne);
  if (o.generate && (o.label === undefined || o.label === '')) throw new UsageFail(S.labelRequired);
  if (!o.generate && (o.label !== undefined || values['key-type'] !== undefined || o.pq)) throw new UsageFail('--label, --key-type and --pq go with --generate.');
  if (o.pq && keyType !== 'p256') throw new UsageFail('--pq makes a P-256 key with an ML-KEM-768 half; it does not go with --key-type x25519.');
  return o;
}

export interface CliDeps {
  readers: () => Promise<CardReaders>;
  /** Runs a plugin state machine; returns the exit code. */
  runStateMachine: (stateMachine: string, io: Io) => Promise<number>;
}

export async function runCli(argv: string[], io: Io, deps: CliDeps): Promise<number> {
  const err = (line: string) => io.stderr.write(line + '\n');
  const sm = argv.find((a) => a.startsWith('--age-plugin='));
  if (sm !== undefined) return deps.runStateMachine(sm.slice('--age-plugin='.length), io);
  let opts: Options;
  try {
    opts = parseOptions(argv);
  } catch (e) {
    if (e instanceof UsageFail) {
      err(e.message.startsWith('Error: ') ? e.message : `Error: ${e.message}`);
      err(`Run '${BINARY} --help' for usage.`);
      return 2;
    }
    throw e;
  }
  if (opts.help) {
    await write(io.stdout, HELP);
    return 0;
  }
  if (opts.version) {
    await write(io.stdout, VERSION_LINE);
    return 0;
  }
  if (opts.module !== undefined) err(S.moduleIgnored('--module'));
  else if (io.env[MODULE_ENV]) err(S.moduleIgnored(MODULE_ENV));
  if (!opts.generate && !opts.list && !opts.listAll && opts.convert === undefined) {
    io.stderr.write(USAGE);
    err(`Run '${BINARY} --help' for more.`);
    return 2;
  }
  let readers: CardReaders | undefined;
  try {
    readers = await deps.readers();
    const { runDeviceCommand } = await import('./commands.ts');
    return await runDeviceCommand(opts, io, readers);
  } catch (e) {
    if (e instanceof PicoHsmError || e instanceof TokenError || e instanceof PromptError) {
      err(`Error: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await readers?.close().catch(() => undefined);
  }
}
