/**
 * `keybridge validate [REPO]`: one table of every identity's key in every context of a secrets
 * repo, and one line per problem with the command that fixes it. Exit 0 all good, 1 problems,
 * 2 the check could not run.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError, UsageError, parseCommandArgs, write, type Command, type Io } from './io.ts';
import { HELP_OPTION, type CommandArgs } from '../term/spec.ts';
import { builtin } from '../builtin.ts';

const HELP = `Usage: keybridge validate [REPO] [options]

Checks that every user and host has the same key in every context of a secrets repo
(default REPO: the current directory):
  - clan sops/users/*/key.json and sops/machines/*/key.json
  - .sops.yaml anchors (&name, &user-host) and the creation rules that use them
  - agenix secrets.nix (at the root or in secrets/: its let-bound keys and each file's publicKeys)
  - clan's age backend: clan.nix recipients (vars.settings.recipients.default / .hosts.<m>),
    machine keys (secrets/age-keys/machines/*/pub, key.age) and *.age.recipients sidecars
  - SSH host keys (*/ssh_host_ed25519_key.pub, or ssh-keyscan output with --host-keys)
  - the workstation keys.txt (each secret key's public key, post-quantum ones too; plugin
    identities by their "# recipient:" comment)
  - Bitwarden items named sops-<name>-ssh (with --bw, --bw-serve or --bw-export)
and that every encrypted file's actual recipients (sops metadata, clan secret links, age headers'
ssh-ed25519 / piv-p256 tags and X25519 counts) match what its rule says. Also reported: invalid
recipient strings, post-quantum and classic recipients mixed in one rule, age plugins that are
needed but not on PATH. The repo is read as hostile input: links out of it are not followed,
only regular files are opened, and whatever cannot be read is reported.

Names are matched by convention (&crs58, &crs58-user, sops/users/crs58, sops-crs58-ssh,
sops-crs58-user-ssh; &crs58-stibnite is crs58's key on host stibnite); override in
REPO/.keybridge.yaml:
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

Exit status: 0 everything corresponds, 1 problems found, 2 the check could not run or\nsomething could not be checked (unreadable files, links out of the repository, bad input).\nWith --json, such errors are JSON on stdout too: {"ok": false, "exitStatus": 2, "error": …}.
`;

export function defaultKeysTxt(env: NodeJS.ProcessEnv): string {
  if (env.SOPS_AGE_KEY_FILE) return env.SOPS_AGE_KEY_FILE;
  // node:os only without HOME: `bw derive`, which imports this, does not load it
  return join(env.XDG_CONFIG_HOME || join(env.HOME || builtin('node:os').homedir(), '.config'), 'sops', 'age', 'keys.txt');
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
    const format = values.json ? 'json' : (values.format ?? 'table');
    const { renderGithub, renderJson, renderJsonError, renderTable } = await import('../repo/report.ts');
    try {
      return await check();
    } catch (e) {
      // With --json, a check that cannot run answers in JSON too (on stdout), with the same exit code.
      if (format === 'json' && e instanceof CliError) {
        await write(io.stdout, renderJsonError(e.message, e.exitCode));
        await write(io.stderr, `keybridge validate: ${e.message}\n`);
        return e.exitCode;
      }
      throw e;
    }

    async function check(): Promise<number> {
      if (positionals.length > 1) throw new UsageError('give at most one REPO directory');
      if (!['table', 'json', 'github'].includes(format)) throw new UsageError(`unknown --format '${format}' (table, json, github)`);
      if ([values.bw, values['bw-serve'], values['bw-export']].filter(Boolean).length > 1) throw new UsageError('choose one of --bw, --bw-serve, --bw-export');
      const root = resolve(io.cwd, positionals[0] ?? '.');
      const keysTxt = values['no-keys'] ? null : values.keys ? resolve(io.cwd, values.keys) : defaultKeysTxt(io.env);
      if (values.keys && !existsSync(keysTxt!)) throw new CliError(`${values.keys}: no such file`, 2);

      const { validateRepo, ValidationError } = await import('../repo/validate.ts');
      const { exitStatus } = await import('../repo/model.ts');
      const { detectEnvironment } = await import('../repo/environment.ts');
      const { readRegularFile, RepoFsError } = await import('../repo/repoFs.ts');
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
          hostKeyScan = { path: values['host-keys'], text: readRegularFile(path, 16 << 20).toString('utf8') };
        }
        const user = io.env.USER;
        const result = await validateRepo({ root, keysTxt, bitwarden, hostKeyScan, environment: detectEnvironment(io.env), ...(user ? { user } : {}), progress: (w) => (w.startsWith('reading Bitwarden') || (io.stderr as { isTTY?: boolean }).isTTY) && io.stderr.write(`${w}…\n`) });
        let out = format === 'json' ? renderJson(result) : format === 'github' ? renderGithub(result) : renderTable(result);
        if (format === 'table' && result.problems.length && root !== io.cwd) out = out.replace(/Fix commands run in the repository root\.\n$/, `Fix commands run in the repository root: cd ${root}\n`);
        await write(io.stdout, out);
        return exitStatus(result.problems);
      } catch (e) {
        if (e instanceof ValidationError || e instanceof src.BitwardenError || e instanceof RepoFsError) throw new CliError(e.message, 2);
        throw e;
      }
    }
  },
};
