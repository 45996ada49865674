/**
 * `keybridge bw`: age keys from Bitwarden SSH-key items.
 *   bw derive NAME [--identity]   the recipient (and identity) of one item
 *   bw sync [--item NAME]…        write them into the workstation keys.txt, safely
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CliError, UsageError, parseCommandArgs, write, type Command, type Io } from './io.ts';
import { HELP_OPTION, type CommandArgs } from '../term/spec.ts';
import { excerpt } from '../text/excerpt.ts';
import { defaultKeysTxt } from './validate.ts';
import { builtin } from '../builtin.ts';

const HELP = `Usage: keybridge bw <command> [options]

Age keys from Bitwarden SSH-key items (type 5 items, or the older convention: public key in the
login password/username, private key in the notes). ssh-ed25519 keys only.

Commands:
  derive NAME [--identity] [--json]
      Print the age recipient of item NAME (and, with --identity, its AGE-SECRET-KEY-1… identity —
      a secret: prefer bw sync, which writes it to a 0600 file).
  sync [--item NAME]... [--file PATH] [--dry-run] [--json]
      Write the identities of the items into the workstation keys.txt ($SOPS_AGE_KEY_FILE, else
      \${XDG_CONFIG_HOME:-~/.config}/sops/age/keys.txt). Default items: sops-<user>-ssh,
      sops-<user>-user-ssh and sops-<host>-ssh for this user and host (missing ones are skipped).
      Identities already in the file are kept; ones keybridge wrote before are updated in place;
      the old file is kept as keys.txt.bak; the new one is written atomically with mode 0600.
      Any failure leaves the old file untouched. --dry-run shows the changes (public keys only);
      --json prints them (and whether the file was written) for scripts.

Where the items come from (default: the bw CLI, with BW_SESSION set):
  --serve URL     a bw serve endpoint (e.g. http://localhost:8087)
  --export FILE   an unencrypted JSON export (bw export --format json)

  -h, --help      show this help

Errors are clear for: bw not installed, not logged in, vault locked, item not found, several items
with the name, an item without an ed25519 key, a malformed export or item, a keys.txt (or its
.bak) that is not a regular file. With --json, errors are printed as JSON on stdout too:
{"error":{"code":"…","message":"…"}}.

Exit status: 0 done; 1 a problem with an item (not found, several, no ed25519 key, damaged key);
2 Bitwarden or the file could not be used (bw missing, not logged in, locked, bw serve
unreachable, malformed or unreadable export, keys.txt unusable) or a usage error.
`;

async function source(values: { serve?: string; export?: string }, io: Io) {
  const src = await import('../bitwarden/source.ts');
  if (values.serve && values.export) throw new UsageError('choose one of --serve and --export');
  if (values.serve) return src.serveSource(values.serve);
  if (values.export) return src.exportSource(resolve(io.cwd, values.export));
  return src.cliSource(io.env);
}

/** node:os, loaded only by `bw sync` (a `bw derive` does not pay for it). */
const os = () => builtin('node:os');

function shortHost(): string {
  return os().hostname().split('.')[0]!;
}

const spec = {
  subcommands: [
    { name: 'derive', summary: 'print the age recipient (and with --identity the identity) of one item', positionals: [{ name: 'NAME', description: 'the Bitwarden item' }] },
    { name: 'sync', summary: 'write the items\' identities into the workstation keys.txt, safely' },
  ],
  options: {
    identity: { type: 'boolean', description: 'bw derive: also print the AGE-SECRET-KEY-1… identity (a secret: prefer bw sync)' },
    json: { type: 'boolean', description: 'JSON output for scripts' },
    item: { type: 'string', multiple: true, value: 'NAME', description: 'bw sync: an item to sync (default sops-<user>-ssh, sops-<user>-user-ssh, sops-<host>-ssh)' },
    file: { type: 'string', value: 'PATH', complete: 'file', description: 'bw sync: the keys.txt to write (default $SOPS_AGE_KEY_FILE, else ~/.config/sops/age/keys.txt)' },
    'dry-run': { type: 'boolean', description: 'bw sync: show the changes (public keys only), write nothing' },
    serve: { type: 'string', value: 'URL', description: 'read the items from a bw serve endpoint (e.g. http://localhost:8087)' },
    export: { type: 'string', value: 'FILE', complete: 'file', description: 'read the items from an unencrypted JSON export (bw export --format json)' },
    help: HELP_OPTION,
  },
} as const satisfies CommandArgs;

export const command: Command = {
  spec,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '-h' || sub === '--help') {
      await write(sub === undefined ? io.stderr : io.stdout, HELP);
      return sub === undefined ? 2 : 0;
    }
    const parsed = parseCommandArgs(rest, spec.options, true);
    const { values, positionals } = parsed;
    if (values.help) {
      await write(io.stdout, HELP);
      return 0;
    }
    const { BitwardenError } = await import('../bitwarden/source.ts');
    const { deriveFromItem } = await import('../bitwarden/derive.ts');
    const { NotRegularFileError, readRegularFile } = await import('../fs/atomicWrite.ts');
    try {
      if (sub === 'derive') {
        if (positionals.length !== 1) throw new UsageError('bw derive needs exactly one item NAME');
        const src = await source(values, io);
        const d = deriveFromItem(await src.getItem(positionals[0]!), { identity: values.identity ?? false });
        if (values.json) await write(io.stdout, JSON.stringify({ item: d.item, recipient: d.recipient, ...(d.identity ? { identity: d.identity } : {}), sshPublicKey: d.sshPublicKey ?? null }, null, 2) + '\n');
        else await write(io.stdout, `${d.recipient}\n${d.identity ? `${d.identity}\n` : ''}`);
        return 0;
      }
      if (sub === 'sync') {
        if (positionals.length) throw new UsageError('bw sync takes no positional arguments (use --item NAME)');
        const file = values.file ? resolve(io.cwd, values.file) : defaultKeysTxt(io.env);
        const src = await source(values, io);
        const explicit = values.item ?? [];
        const user = io.env.USER || os().userInfo().username;
        const names = explicit.length ? explicit : [`sops-${user}-ssh`, `sops-${user}-user-ssh`, `sops-${shortHost()}-ssh`];
        const entries = [];
        for (const name of names) {
          let item;
          try {
            item = await src.getItem(name);
          } catch (e) {
            if (e instanceof BitwardenError && e.code === 'NOT_FOUND' && !explicit.length) {
              io.stderr.write(`note: no Bitwarden item ${name}; skipped\n`);
              continue;
            }
            throw e;
          }
          const d = deriveFromItem(item, { identity: true });
          entries.push({ item: name, identity: d.identity!, recipient: d.recipient });
        }
        if (entries.length === 0) throw new CliError(`none of the Bitwarden items ${names.join(', ')} exist; name them with --item`, 1);
        const { planSync } = await import('../bitwarden/keysFile.ts');
        let existing: Buffer;
        try {
          existing = (await readRegularFile(file)) ?? Buffer.alloc(0);
        } catch (e) {
          throw keysFileError(file, 'read', e);
        }
        const plan = await planSync(existing, entries);
        const willWrite = !values['dry-run'] && !plan.bytes.equals(existing);
        if (willWrite) {
          const { writeFileAtomic } = await import('../fs/atomicWrite.ts');
          try {
            mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
            await writeFileAtomic(file, plan.bytes, { secret: true });
          } catch (e) {
            throw keysFileError(file, 'write', e);
          }
        }
        if (values.json) {
          await write(io.stdout, JSON.stringify({ file, written: willWrite, backup: willWrite && existing.length ? `${file}.bak` : null, changes: plan.changes }, null, 2) + '\n');
          return 0;
        }
        for (const c of plan.changes) {
          const what = { add: 'add', replace: 'update', unchanged: 'unchanged', present: 'already present' }[c.action];
          await write(io.stdout, `${c.action === 'add' ? '+' : c.action === 'replace' ? '~' : '='} ${c.item}: ${what} ${c.recipient}${c.previous ? ` (was ${c.previous})` : ''}\n`);
        }
        if (values['dry-run']) await write(io.stdout, `dry run: ${file} not changed\n`);
        else if (!willWrite) await write(io.stdout, `${file} is up to date\n`);
        else await write(io.stdout, `wrote ${file} (mode 0600)${existing.length ? `; previous version kept as ${file}.bak` : ''}\n`);
        return 0;
      }
      throw new UsageError(`unknown bw command '${excerpt(sub)}' (derive, sync)`);
    } catch (e) {
      const err = e instanceof BitwardenError ? new CliError(e.message, e.exitCode, e.code) : e;
      if (values.json && err instanceof CliError) {
        // Scripts read stdout: the error is a JSON document there, with the same exit status.
        await write(io.stdout, JSON.stringify({ error: { code: err.code ?? (err.exitCode === 2 ? 'USAGE' : 'FAILED'), message: err.message } }, null, 2) + '\n');
        return err.exitCode;
      }
      throw err;
    }

    function keysFileError(path: string, op: 'read' | 'write', e: unknown): CliError {
      if (e instanceof NotRegularFileError) return new CliError(e.message, 2, 'NOT_REGULAR_FILE');
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied' : err.code === 'ENOSPC' ? 'no space left on the device (ENOSPC)' : err.code === 'EFBIG' ? err.message : (err.code ?? err.message);
      return new CliError(`cannot ${op} ${path}: ${why}; it was left as it was`, 2, 'KEYS_FILE');
    }
  },
};
