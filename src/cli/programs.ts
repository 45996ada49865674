/**
 * The executables keybridge installs (package.json `bin`), described by the option definitions
 * their parsers use: the source of the shell completions and man pages.
 */
import { commands } from './commands.ts';
import { MAIN_OPTIONS } from './main.ts';
import { spec as sshToAgeSpec } from './ssh-to-age.ts';
import type { CommandSpec, ProgramSpec } from '../term/spec.ts';

export async function keybridgeProgram(): Promise<ProgramSpec> {
  const cmds: CommandSpec[] = [];
  for (const name of Object.keys(commands).sort()) {
    const entry = commands[name]!;
    const { spec } = await entry.load();
    cmds.push({ name, summary: entry.summary, options: {}, ...spec });
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

const POLICY = { pin: ['always', 'once', 'never'], touch: ['always', 'cached', 'never'] } as const;

/**
 * age-plugin-yubikey's flags. Until its parser (src/plugins/yubikey/cli.ts) reads definitions of
 * this type, this table describes it, and test/cli/completion.test.ts checks the two agree flag
 * by flag.
 */
export const AGE_PLUGIN_YUBIKEY: ProgramSpec = {
  name: 'age-plugin-yubikey',
  summary: 'YubiKeys (PIV, P-256) as age identities, compatible with age-plugin-yubikey 0.5.0',
  options: {
    help: { type: 'boolean', short: 'h', description: 'print this help message and exit' },
    version: { type: 'boolean', short: 'V', description: 'print version info and exit' },
    'age-plugin': { type: 'string', value: 'STATE-MACHINE', description: 'run the given age plugin state machine (internal use only)' },
    force: { type: 'boolean', short: 'f', description: 'force --generate to overwrite a filled slot' },
    generate: { type: 'boolean', short: 'g', description: 'generate a new YubiKey identity' },
    identity: { type: 'boolean', short: 'i', description: 'print the identity stored in a YubiKey slot' },
    list: { type: 'boolean', short: 'l', description: 'list all age identities in connected YubiKeys' },
    'list-all': { type: 'boolean', description: 'list all YubiKey keys that are compatible with age' },
    name: { type: 'string', value: 'NAME', description: "name for the generated identity (default 'age identity' and the new key's tag in hex)" },
    'pin-policy': { type: 'string', value: 'PIN-POLICY', choices: POLICY.pin, description: 'one of always, once, never (default once)' },
    serial: { type: 'string', value: 'SERIAL', description: 'which YubiKey to use, if more than one is plugged in' },
    slot: { type: 'string', value: 'SLOT', choices: Array.from({ length: 20 }, (_, i) => String(i + 1)), description: 'which slot to use (1-20; default the first usable slot)' },
    'touch-policy': { type: 'string', value: 'TOUCH-POLICY', choices: POLICY.touch, description: 'one of always, cached, never (default always)' },
    tag: { type: 'boolean', description: 'with --list/--list-all: print age1tag1… recipients, which Go age >= 1.3, rage >= 0.12 and typage encrypt to without a plugin' },
    json: { type: 'boolean', description: 'with --generate/--identity/--list/--list-all: print JSON' },
  },
  description: [
    'Uses YubiKeys (PIV, P-256) as age identities. Drop-in compatible with age-plugin-yubikey 0.5.0: same recipients (age1yubikey1…), identities (AGE-PLUGIN-YUBIKEY-1…) and stanzas. age clients run it from PATH when a file or identity names the yubikey plugin.',
    'Without a command, a guided setup asks which YubiKey, slot, name and policies to use and writes age-yubikey-identity-TAG.txt. PINs are read from the terminal (or, with no terminal, one per line from standard input), never from arguments.',
  ],
  environment: { AGE_PLUGIN_YUBIKEY_SKIP_NOT_FOUND: 'when 1, decryption skips identities whose YubiKey is not plugged in instead of asking for it' },
  exitStatus: '0 success, 1 failure, 2 usage error.',
  examples: ['age-plugin-yubikey --generate > identity.txt', 'age-plugin-yubikey --list > recipients.txt', 'age -d -i identity.txt secret.age'],
};

/** Every executable, in package.json `bin` order. */
export async function programs(): Promise<ProgramSpec[]> {
  return [await keybridgeProgram(), SSH_TO_AGE, AGE_PLUGIN_YUBIKEY];
}
