/**
 * The executables keybridge installs (package.json `bin`), described by the option definitions
 * their parsers use: the source of the shell completions and man pages.
 */
import { commands } from './commands.ts';
import { MAIN_OPTIONS } from './main.ts';
import { spec as sshToAgeSpec } from './ssh-to-age.ts';
import type { CommandSpec, ProgramSpec } from '../term/spec.ts';
import { familyNames } from '../fs/registry.ts';

export async function keybridgeProgram(): Promise<ProgramSpec> {
  const cmds: CommandSpec[] = [];
  for (const name of Object.keys(commands).sort()) {
    const entry = commands[name]!;
    const { spec } = await entry.load();
    cmds.push({ name, summary: entry.summary, options: {}, ...(typeof spec === 'function' ? await spec() : spec) });
  }
  return {
    name: 'keybridge',
    summary: 'hardware tokens and everyday keys for age, sops, agenix and clan',
    options: MAIN_OPTIONS,
    commands: cmds,
    description: [
      'keybridge brings hardware tokens and everyday keys to age, sops, sops-nix, agenix and clan: age plugins for hardware tokens, ssh-to-age, Bitwarden-derived keys with keys.txt sync, a validator that checks every key across a secrets repo, and virtual tokens for tests and CI.',
      "Run 'keybridge COMMAND --help' for a command's full help.",
    ],
    environment: {
      SOPS_AGE_KEY_FILE: 'the workstation keys.txt (bw sync, validate); default ${XDG_CONFIG_HOME:-~/.config}/sops/age/keys.txt',
      BW_SESSION: 'the unlocked Bitwarden session (bw, validate --bw)',
      KEYBRIDGE_PCSCD: 'the pcscd executable the rig starts (default /usr/sbin/pcscd)',
      KEYBRIDGE_VPCD_DRIVER: "the vpcd driver's path for the rig (default /usr/lib/pcsc/drivers/serial/libifdvpcd.so)",
    },
    exitStatus: '0 success, 1 failure (validate: problems found), 2 usage error (validate: the check could not run).',
  };
}

export const SSH_TO_AGE: ProgramSpec = {
  name: 'ssh-to-age',
  summary: 'convert SSH Ed25519 keys to age recipients and identities',
  ...sshToAgeSpec,
  description: [
    'Converts SSH Ed25519 keys to age keys, byte for byte like Mic92/ssh-to-age 1.3.0. Public keys (default): every ssh-ed25519 key in the input (single keys, authorized_keys, ssh-keyscan output, known_hosts) becomes one age1… line, in input order; other key types are skipped with a message on stderr. With -private-key, an OpenSSH (or PKCS#8) Ed25519 private key becomes an AGE-SECRET-KEY-1… identity.',
    'Flags are written like Go flags: -flag or --flag, -flag=value or -flag value.',
  ],
  environment: { SSH_TO_AGE_PASSPHRASE: 'passphrase of an encrypted private key (never pass it as an argument)' },
  exitStatus: '0 success (also when every key was skipped), 1 conversion or I/O error, 2 usage error.',
  examples: ['ssh-to-age < ~/.ssh/id_ed25519.pub', 'ssh-keyscan example.org | ssh-to-age', 'ssh-to-age -private-key -i ~/.ssh/id_ed25519 -o ~/.config/sops/age/keys.txt'],
};

declare const __KEYBRIDGE_PLUGIN_FAMILIES__: string[] | undefined;

/**
 * Every executable: keybridge, ssh-to-age, then the plugins by family name: every
 * `src/plugins/X/cli.ts` (src/fs/registry.ts), which exports `PROGRAM`, built from the flag table
 * its parser uses.
 */
export async function programs(): Promise<ProgramSpec[]> {
  const families = familyNames(typeof __KEYBRIDGE_PLUGIN_FAMILIES__ === 'undefined' ? undefined : __KEYBRIDGE_PLUGIN_FAMILIES__, new URL('../plugins/', import.meta.url), 'cli.ts');
  const plugins = await Promise.all(families.map(async (n) => ((await import(`../plugins/${n}/cli.ts`)) as { PROGRAM: ProgramSpec }).PROGRAM));
  return [await keybridgeProgram(), SSH_TO_AGE, ...plugins];
}
