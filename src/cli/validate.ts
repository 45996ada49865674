/**
 * `keybridge validate [REPO]`: one table of every identity's key in every context of a secrets
 * repo, and one line per problem with the command that fixes it. Exit 0 all good, 1 problems,
 * 2 the check could not run.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CliError, UsageError, parseCommandArgs, write, type Command, type Io } from './io.ts';
import { HELP_OPTION, type CommandArgs } from '../term/spec.ts';

const HELP = `Usage: keybridge validate [REPO] [options]

Checks that every user and host has the same key in every context of a secrets repo
(default REPO: the current directory):
  - clan sops/users/*/key.json and sops/machines/*/key.json
  - .sops.yaml anchors (&name) and the creation rules that use them
  - agenix secrets.nix (its let-bound keys and each file's publicKeys)
  - SSH host keys (*/ssh_host_ed25519_key.pub, or ssh-keyscan output with --host-keys) and
    clan age-backend machine keys and recipient sidecars
  - the workstation keys.txt (each secret key's public key)
  - Bitwarden items named sops-<name>-ssh (with --bw, --bw-serve or --bw-export)
and that every encrypted file's actual recipients (sops metadata, clan secret links, age headers'
ssh-ed25519 / piv-p256 tags and X25519 counts) match what its rule says.

Names are matched by convention (&crs58, &crs58-user, sops/users/crs58, sops-crs58-ssh,
sops-crs58-user-ssh); override in REPO/.keybridge.yaml:
  aliases: { admin-user: crs58 }
  bitwarden: { items: { crs58: sops-admin-user-ssh } }
  ignore: [ci]

Options:
  --keys FILE         keys.txt to compare (default: $SOPS_AGE_KEY_FILE, else
                      \${XDG_CONFIG_HOME:-~/.config}/sops/age/keys.txt when it exists)
  --no-keys           do not read a keys.txt
  --host-keys FILE    ssh-keyscan output to compare as the hosts' SSH keys
                      (e.g. ssh-keyscan -t ed25519 host1 host2 > FILE)
  --bw                read Bitwarden through the bw CLI (BW_SESSION must be set)
  --bw-serve URL      read Bitwarden through a bw serve endpoint (e.g. http://localhost:8087)
  --bw-export FILE    read Bitwarden items from an unencrypted JSON export
  --json              JSON output (same as --format json)
  --format FORMAT     table (default), json, or github (Actions annotations)
  -h, --help          show this help

Exit status: 0 everything corresponds, 1 problems found, 2 the check could not run.
`;

export function defaultKeysTxt(env: NodeJS.ProcessEnv): string {
  if (env.SOPS_AGE_KEY_FILE) return env.SOPS_AGE_KEY_FILE;
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'sops', 'age', 'keys.txt');
}

const spec = {
  positionals: [{ name: 'REPO', optional: true, complete: 'directory', description: 'the secrets repo (default: the current directory)' }],
  options: {
    keys: { type: 'string', value: 'FILE', complete: 'file', description: 'keys.txt to compare (default: $SOPS_AGE_KEY_FILE, else ~/.config/sops/age/keys.txt when it exists)' },
    'no-keys': { type: 'boolean', description: 'do not read a keys.txt' },
    'host-keys': { type: 'string', value: 'FILE', complete: 'file', description: "ssh-keyscan output to compare as the hosts' SSH keys" },
    bw: { type: 'boolean', description: 'read Bitwarden through the bw CLI (BW_SESSION must be set)' },
    'bw-serve': { type: 'string', value: 'URL', description: 'read Bitwarden through a bw serve endpoint (e.g. http://localhost:8087)' },
    'bw-export': { type: 'string', value: 'FILE', complete: 'file', description: 'read Bitwarden items from an unencrypted JSON export' },
    json: { type: 'boolean', description: 'JSON output (same as --format json)' },
    format: { type: 'string', value: 'FORMAT', choices: ['table', 'json', 'github'], description: 'table (default), json, or github (Actions annotations)' },
    help: HELP_OPTION,
  },
} as const satisfies CommandArgs;

export const command: Command = {
  spec,
  async run(argv: string[], io: Io) {
    const parsed = parseCommandArgs(argv, spec.options, true);
    const { values, positionals } = parsed;
    if (values.help) {
      await write(io.stdout, HELP);
      return 0;
    }
    if (positionals.length > 1) throw new UsageError('give at most one REPO directory');
    const format = values.json ? 'json' : (values.format ?? 'table');
    if (!['table', 'json', 'github'].includes(format)) throw new UsageError(`unknown --format '${format}' (table, json, github)`);
    if ([values.bw, values['bw-serve'], values['bw-export']].filter(Boolean).length > 1) throw new UsageError('choose one of --bw, --bw-serve, --bw-export');
    const root = resolve(io.cwd, positionals[0] ?? '.');
    const keysTxt = values['no-keys'] ? null : values.keys ? resolve(io.cwd, values.keys) : defaultKeysTxt(io.env);
    if (values.keys && !existsSync(keysTxt!)) throw new CliError(`${values.keys}: no such file`, 2);

    const { validateRepo, ValidationError } = await import('../repo/validate.ts');
    const { renderGithub, renderJson, renderTable } = await import('../repo/report.ts');
    const src = await import('../bitwarden/source.ts');
    let bitwarden = null;
    try {
      if (values.bw) bitwarden = src.cliSource(io.env);
      else if (values['bw-serve']) bitwarden = src.serveSource(values['bw-serve']);
      else if (values['bw-export']) bitwarden = await src.exportSource(resolve(io.cwd, values['bw-export']));
      let hostKeyScan = null;
      if (values['host-keys']) {
        const path = resolve(io.cwd, values['host-keys']);
        if (!existsSync(path)) throw new CliError(`${values['host-keys']}: no such file`, 2);
        hostKeyScan = { path: values['host-keys'], text: (await import('node:fs')).readFileSync(path, 'utf8') };
      }
      const user = io.env.USER;
      const result = await validateRepo({ root, keysTxt, bitwarden, hostKeyScan, ...(user ? { user } : {}), progress: (w) => io.stderr.write(`${w}…\n`) });
      await write(io.stdout, format === 'json' ? renderJson(result) : format === 'github' ? renderGithub(result) : renderTable(result));
      return result.problems.length ? 1 : 0;
    } catch (e) {
      if (e instanceof ValidationError || e instanceof src.BitwardenError) throw new CliError(e.message, 2);
      throw e;
    }
  },
};
