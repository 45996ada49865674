/**
 * `keybridge ssh-to-age` (also installed as `ssh-to-age`): drop-in for Mic92/ssh-to-age 1.3.0.
 * Same flags (Go `flag` syntax: -x or --x, -x=v or -x v), same SSH_TO_AGE_PASSPHRASE and
 * -stdinpass rules, same stdout. Differences are listed in README.md (## ssh-to-age).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../fs/atomicWrite.ts';
import { convertPublicKeyLines, skippedKeyMessage } from '../ssh/lines.ts';
import { sshPrivateKeyToAgeIdentity } from '../ssh/identity.ts';
import { KeyConversionError } from '../ssh/errors.ts';
import { CliError, UsageError, readAll, write, type Command, type Io } from './io.ts';
import { VERSION } from '../version.ts';
import type { CommandArgs } from '../term/spec.ts';

/** The reference release whose behaviour this command reproduces. */
export const REFERENCE_VERSION = '1.3.0';

export interface SshToAgeOptions {
  input: string;
  output: string;
  privateKey: boolean;
  stdinPass: boolean;
  version: boolean;
  help: boolean;
  json: boolean;
}

export const HELP = `Usage: ssh-to-age [-private-key] [-i INPUT] [-o OUTPUT] [-stdinpass] [-json]

Converts SSH Ed25519 keys to age keys, byte for byte like Mic92/ssh-to-age ${REFERENCE_VERSION}.

Public keys (default): every ssh-ed25519 key in INPUT (single keys, authorized_keys, ssh-keyscan
output, known_hosts) becomes one age1… line, in input order. Other key types are skipped with a
message on stderr.

  -i PATH         input path, - for standard input (default -)
  -o PATH         output path, - for standard output (default -); written atomically, only
                  on success; a private key gets mode 0600 and a replaced one is kept as PATH.bak
  -private-key    convert an OpenSSH (or PKCS#8) Ed25519 private key to AGE-SECRET-KEY-1…
  -stdinpass      read the private key passphrase from standard input (needs -i PATH)
  -json           print one JSON document instead (not in the reference): public keys
                  {"recipients":[{"line":N,"recipient":"age1…"}],"skipped":[{"line":N,"keyType":"…"}]},
                  private key {"identity":"AGE-SECRET-KEY-1…","recipient":"age1…"}
  -version        print the version and exit
  -h, -help       show this help

Environment:
  SSH_TO_AGE_PASSPHRASE   passphrase of an encrypted private key (never pass it as an argument)

Exit status: 0 success (also when every key was skipped), 1 conversion or I/O error, 2 usage error.

Examples:
  ssh-to-age < ~/.ssh/id_ed25519.pub
  ssh-keyscan example.org | ssh-to-age
  ssh-to-age -private-key -i ~/.ssh/id_ed25519 -o ~/.config/sops/age/keys.txt
`;

/** The reference's flags (Go `flag` syntax), which the parser below accepts and nothing else. */
export const spec = {
  style: 'go',
  options: {
    i: { type: 'string', value: 'PATH', complete: 'file', description: 'input path, - for standard input (default -)' },
    o: { type: 'string', value: 'PATH', complete: 'file', description: 'output path, - for standard output (default -); written atomically, only on success' },
    'private-key': { type: 'boolean', description: 'convert an OpenSSH (or PKCS#8) Ed25519 private key to AGE-SECRET-KEY-1…' },
    stdinpass: { type: 'boolean', description: 'read the private key passphrase from standard input (needs -i PATH)' },
    json: { type: 'boolean', description: 'print one JSON document instead (not in the reference)' },
    version: { type: 'boolean', description: 'print the version and exit' },
    h: { type: 'boolean', description: 'show this help' },
    help: { type: 'boolean', description: 'show this help' },
  },
} as const satisfies CommandArgs;

const flagsOf = (type: 'boolean' | 'string') => new Set(Object.entries(spec.options).flatMap(([name, def]) => (def.type === type ? [name] : [])));
const BOOLEAN_FLAGS = flagsOf('boolean');
const STRING_FLAGS = flagsOf('string');

function parseGoBool(name: string, value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new UsageError(`invalid boolean value "${value}" for -${name}`);
}

/** Parses arguments with the rules of Go's `flag` package (the reference's parser). */
export function parseSshToAgeArgs(argv: readonly string[]): SshToAgeOptions {
  const opts: SshToAgeOptions = { input: '-', output: '-', privateKey: false, stdinPass: false, version: false, help: false, json: false };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (arg.length < 2 || arg[0] !== '-') break;
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    if (body.length === 0 || body[0] === '-' || body[0] === '=') throw new UsageError(`bad flag syntax: ${arg}`);
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    const inline = eq === -1 ? undefined : body.slice(eq + 1);
    if (BOOLEAN_FLAGS.has(name)) {
      const value = inline === undefined ? true : parseGoBool(name, inline);
      if (name === 'private-key') opts.privateKey = value;
      else if (name === 'stdinpass') opts.stdinPass = value;
      else if (name === 'version') opts.version = value;
      else if (name === 'json') opts.json = value;
      else opts.help = value;
    } else if (STRING_FLAGS.has(name)) {
      let value = inline;
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: -${name}`);
        value = argv[++i]!;
      }
      if (name === 'i') opts.input = value;
      else opts.output = value;
    } else {
      throw new UsageError(`flag provided but not defined: -${name} (see -help)`);
    }
  }
  if (i < argv.length) {
    throw new UsageError(`unexpected argument '${argv[i]}': give the input file with -i PATH (see -help)`);
  }
  return opts;
}

function ioReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'not a directory';
    default:
      return e.code ?? (err instanceof Error ? err.message : String(err));
  }
}

async function readInput(opts: SshToAgeOptions, io: Io): Promise<Buffer> {
  if (opts.input === '-') {
    try {
      return await readAll(io.stdin);
    } catch (err) {
      throw new CliError(`error reading stdin: ${ioReason(err)}`);
    }
  }
  try {
    return await readFile(resolve(io.cwd, opts.input));
  } catch (err) {
    throw new CliError(`error reading ${opts.input}: ${ioReason(err)}`);
  }
}

async function emit(opts: SshToAgeOptions, io: Io, text: string, secret: boolean): Promise<void> {
  if (opts.output === '-') {
    await write(io.stdout, text);
    return;
  }
  try {
    await writeFileAtomic(resolve(io.cwd, opts.output), text, { secret });
  } catch (err) {
    throw new CliError(`failed to create ${opts.output}: ${ioReason(err)}`);
  }
}

/** Passphrase from -stdinpass (trailing CR/LF removed) or SSH_TO_AGE_PASSPHRASE. */
async function passphrase(opts: SshToAgeOptions, io: Io): Promise<Buffer> {
  if (opts.stdinPass) {
    const raw = await readAll(io.stdin);
    let end = raw.length;
    while (end > 0 && (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d)) end--;
    const pass = Buffer.from(raw.subarray(0, end));
    raw.fill(0);
    return pass;
  }
  return Buffer.from(io.env.SSH_TO_AGE_PASSPHRASE ?? '', 'utf8');
}

async function convertPrivate(opts: SshToAgeOptions, io: Io, input: Buffer): Promise<void> {
  const pass = await passphrase(opts, io);
  let text: string;
  try {
    const pair = sshPrivateKeyToAgeIdentity(input.toString('utf8'), pass);
    text = opts.json ? `${JSON.stringify({ identity: pair.identity, recipient: pair.recipient })}\n` : `${pair.identity}\n`;
    for (const warning of pair.warnings) await write(io.stderr, `warning: ${warning}\n`);
  } catch (err) {
    if (err instanceof KeyConversionError) throw new CliError(`failed to convert the private key: ${err.message}`);
    throw err;
  } finally {
    pass.fill(0);
    input.fill(0);
  }
  await emit(opts, io, text, true);
}

async function convertPublic(opts: SshToAgeOptions, io: Io, input: Buffer): Promise<void> {
  const conversion = convertPublicKeyLines(input.toString('utf8'));
  let out = '';
  let messages = '';
  for (const r of conversion.results) {
    if ('recipient' in r) out += `${r.recipient}\n`;
    else messages += `${skippedKeyMessage(r.skippedKeyType)}\n`;
  }
  if (messages && !opts.json) await write(io.stderr, messages);
  if (conversion.error) {
    const where = opts.input === '-' ? `line ${conversion.error.line}` : `${opts.input}, line ${conversion.error.line}`;
    throw new CliError(`${where}: ${conversion.error.error.message}`);
  }
  if (conversion.results.length === 0) await write(io.stderr, 'warning: no public keys in the input\n');
  if (opts.json) {
    const recipients = conversion.results.flatMap((r) => ('recipient' in r ? [{ line: r.line, recipient: r.recipient }] : []));
    const skipped = conversion.results.flatMap((r) => ('skippedKeyType' in r ? [{ line: r.line, keyType: r.skippedKeyType }] : []));
    out = `${JSON.stringify({ recipients, skipped })}\n`;
  }
  await emit(opts, io, out, false);
}

export async function runSshToAge(argv: string[], io: Io): Promise<number> {
  const opts = parseSshToAgeArgs(argv);
  if (opts.help) {
    await write(io.stdout, HELP);
    return 0;
  }
  if (opts.version) {
    await write(io.stdout, `${REFERENCE_VERSION} (keybridge ${VERSION})\n`);
    return 0;
  }
  if (opts.privateKey && opts.stdinPass && opts.input === '-') {
    throw new CliError('cannot read both private key and passphrase from stdin: give the key with -i PATH');
  }
  const input = await readInput(opts, io);
  if (opts.privateKey) await convertPrivate(opts, io, input);
  else await convertPublic(opts, io, input);
  return 0;
}

export const command: Command = { spec, run: runSshToAge };
