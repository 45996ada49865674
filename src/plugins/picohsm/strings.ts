/**
 * Every user-facing text of the Pico HSM plugin, in one place so compatibility with
 * pinpox/age-plugin-picohsm 0.1.0 (cmd/age-plugin-picohsm/main.go, internal/plugin) can be checked
 * at a glance. Texts marked "keybridge" have no counterpart there. The name, the reference's
 * version and the usage, --help and --version texts are in about.ts.
 */
export const PLUGIN_NAME = 'picohsm';
export const SKIP_NOT_FOUND_ENV = 'AGE_PLUGIN_PICOHSM_SKIP_NOT_FOUND';
export const PIN_ENV = 'PICOHSM_PIN';
export const MODULE_ENV = 'PICOHSM_PKCS11_MODULE';

/** How texts name a device: its serial, or "any Pico HSM" for identities that name none (pinpox's). */
export type DeviceName = string;

const INIT_HELP = 'sc-hsm-tool --initialize --so-pin <16 hex digits> --pin <6-16 characters>';
const UNBLOCK_HELP = 'pkcs11-tool --module opensc-pkcs11.so --login --login-type so --init-pin';

export const S = {
  invalidRecipient: 'Invalid Pico HSM recipient',
  invalidIdentity: 'Invalid Pico HSM identity',
  invalidStanza: 'Invalid picohsm stanza',
  decryptFailed: 'Failed to decrypt picohsm stanza',
  /** pinpox: "Please plug in HSM with key with fingerprint …" */
  insertConfirm: (d: DeviceName) => `Please plug in Pico HSM ${d}`,
  insertRetry: (d: DeviceName) => `Could not open the Pico HSM. Please plug in Pico HSM ${d}`,
  insertYes: 'Pico HSM is plugged in',
  insertNo: 'Skip this Pico HSM',
  /** keybridge */
  insertTimeout: (d: DeviceName) => `Timed out while waiting for Pico HSM ${d} to be plugged in`,
  openFailed: (d: DeviceName) => `Could not open Pico HSM ${d}`,
  /** keybridge */
  noTerminal: (d: DeviceName) => `Pico HSM ${d} is not plugged in and there is no terminal to ask for it; plug it in, or set ${SKIP_NOT_FOUND_ENV}=1 to skip absent Pico HSMs.`,
  /** keybridge: debug line (AGEDEBUG=plugin) */
  skipped: (d: DeviceName) => `Skipping Pico HSM ${d}: not plugged in (${SKIP_NOT_FOUND_ENV})`,
  /** pinpox: "Enter HSM PIN:" */
  pinPrompt: (d: DeviceName) => `Enter PIN for Pico HSM ${d}`,
  pinRequired: (d: DeviceName) => `A PIN is required for Pico HSM ${d}`,
  pinLength: 'The Pico HSM PIN is 6 to 16 characters long.',
  pinInvalid: (tries: number) => `Invalid PIN (${tries} ${tries === 1 ? 'try' : 'tries'} remaining before it is blocked)`,
  /** keybridge: refuses to spend the last retry. */
  pinLastRetry: (d: DeviceName) =>
    `Only 1 PIN try is left on Pico HSM ${d}; keybridge will not risk blocking it. Check the PIN and verify it once with ` +
    '`pkcs11-tool --module opensc-pkcs11.so --login --test`; if it is blocked, unblock it with the SO-PIN: ' +
    `\`${UNBLOCK_HELP}\`.`,
  /** keybridge */
  pinBlocked: (d: DeviceName) => `The PIN of Pico HSM ${d} is blocked. Unblock it with the SO-PIN: \`${UNBLOCK_HELP}\` (asks for the SO-PIN and a new PIN).`,
  /** keybridge: the press-to-confirm button. */
  touch: (d: DeviceName) => `Press the button on Pico HSM ${d} to confirm`,
  /** keybridge */
  touchTimeout: (d: DeviceName) => `The button on Pico HSM ${d} was not pressed in time (or the operation was refused); try again and press it while the LED blinks.`,
  /** keybridge */
  removed: (d: DeviceName) => `Pico HSM ${d} was removed during the operation; plug it back in and try again.`,
  /** keybridge */
  readerBusy: (reader: string) => `The Pico HSM in "${reader}" is held exclusively by another program (scdaemon, a PKCS#11 application); stop it and try again.`,
  pcscdNotRunning: 'pcscd is not running. Install and start it: `sudo apt-get install pcscd` (then `sudo systemctl start pcscd.socket`).',
  /** keybridge: one message for a device that was never initialised; no SO-PIN is ever guessed. */
  uninitialised: (where: string) =>
    `The Pico HSM in "${where}" is not initialised (it has no PIN and no keys yet). Initialise it once, choosing its SO-PIN and PIN: \`${INIT_HELP}\` ` +
    '(keep the SO-PIN safe: it unblocks the PIN and is needed to initialise the device again).',
  /** keybridge */
  keyNotFound: (what: string, d: DeviceName) => `No key ${what} on Pico HSM ${d}`,
  /** keybridge */
  x25519NoPluginRecipient: 'This identity is an X25519 key: encrypt to its plain age1… recipient (age-plugin-picohsm --list prints it), no plugin needed.',

  // Command line.
  /** pinpox (no trailing newline there) */
  labelRequired: 'Error: --label is required with --generate',
  onlyOne: 'Only one of --generate, --list, --list-all, --convert can be specified.',
  invalidKeyType: (s: string) => `Invalid key type '${s}' (expected p256 or x25519).`,
  labelTaken: (label: string, d: DeviceName) => `Pico HSM ${d} already has a key labelled "${label}"; choose another --label.`,
  noDevice: 'No Pico HSM found. Plug one in (it must be visible to pcscd: `opensc-tool -l`).',
  multipleDevices: 'Several Pico HSMs are plugged in. Use --serial to choose one.',
  serialNotFound: (serial: string) => `No Pico HSM with serial ${serial} is plugged in.`,
  /** pinpox: Generating P-256 key with label "…"... */
  generating: (keyType: 'p256' | 'x25519', label: string) => `Generating ${keyType === 'p256' ? 'P-256' : 'X25519'} key with label "${label}"...`,
  saveIdentity: 'Save the identity to a file and use it with age -d -i <file>',
  noKeys: 'No age keys found on the Pico HSM.',
  noKeysHint: 'Use --generate --label <name> to create one.',
  /** keybridge: --pin and PICOHSM_PIN are accepted for drop-in use. */
  pinArgvWarning: `warning: --pin puts the PIN in the process list and your shell history; leave it out to be asked for it.`,
  pinEnvWarning: `warning: ${PIN_ENV} is readable by your other processes (/proc/<pid>/environ) and often ends up in logs; leave it unset to be asked for the PIN.`,
  /** keybridge: keybridge does not use PKCS#11. */
  moduleIgnored: (how: string) =>
    `note: ${how} is accepted for compatibility and not used: keybridge talks to the Pico HSM's SmartCard-HSM application directly over PC/SC, without a PKCS#11 module.`,
  x25519Cost:
    'note: X25519 stanzas carry no tag, so every X25519 stanza in a file costs a device ECDH (and the PIN) even when it is for another recipient.',
} as const;
