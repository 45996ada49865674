/**
 * Every user-facing text of the YubiKey plugin, in one place so compatibility with
 * age-plugin-yubikey 0.5.0 (i18n/en-US/age_plugin_yubikey.ftl) can be checked at a glance. Texts
 * marked "keybridge" have no counterpart in the reference. The name, the reference's version and
 * the --help and --version texts are in about.ts.
 */
import { hostIsNixOS } from '../../term/host.ts';

/** keybridge: how to get pcscd running, on NixOS (declared in the configuration) or elsewhere. */
export function pcscdNotRunning(nixos: boolean): string {
  return nixos
    ? 'pcscd is not running. Enable it in your NixOS configuration: `services.pcscd.enable = true;` (keybridge\'s NixOS module does this), then `sudo nixos-rebuild switch`.'
    : 'pcscd is not running. Install and start it: `sudo apt-get install pcscd` (then `sudo systemctl start pcscd.socket`).';
}

export const S = {
  invalidRecipient: 'Invalid recipient',
  invalidStub: 'Invalid YubiKey stub',
  invalidStanza: 'Invalid YubiKey stanza',
  decryptFailed: 'Failed to decrypt YubiKey stanza',
  stubMismatch: 'A YubiKey stub did not match the YubiKey',
  openFailed: (serial: number | string) => `Could not open YubiKey with serial ${serial}`,
  insertConfirm: (serial: number | string) => `Please insert YubiKey with serial ${serial}`,
  insertRetry: (serial: number | string) => `Could not open YubiKey. Please insert YubiKey with serial ${serial}`,
  insertYes: 'YubiKey is plugged in',
  insertNo: 'Skip this YubiKey',
  /** keybridge: debug line (AGEDEBUG=plugin) */
  skipped: (serial: number | string) => `Skipping YubiKey with serial ${serial}: not plugged in (AGE_PLUGIN_YUBIKEY_SKIP_NOT_FOUND)`,
  insertTimeout: (serial: number | string) => `Timed out while waiting for YubiKey with serial ${serial} to be inserted`,
  notFound: (serial: number | string) => `Could not find YubiKey with serial ${serial}.`,
  multiple: 'Multiple YubiKeys are plugged in. Use --serial to select a single YubiKey.',
  noYubiKey: 'Please insert the YubiKey you want to set up',
  pinPrompt: (serial: number | string) => `Enter PIN for YubiKey with serial ${serial}`,
  pinRequired: (serial: number | string) => `A PIN is required for YubiKey with serial ${serial}`,
  pinTooShort: 'PIN was too short.',
  pinTooLong: 'PIN was too long.',
  pinOtp: 'Did you touch the YubiKey by accident?',
  pinInvalid: (tries: number) => `Invalid PIN (${tries} tries remaining before it is blocked)`,
  pinLocked: 'PIN locked',
  /** keybridge: refuses to spend the last retry. */
  pinLastRetry: (serial: number | string) =>
    `Only 1 PIN try is left on YubiKey with serial ${serial}; keybridge will not risk blocking it. ` +
    // ykman has no command that only verifies a PIV PIN (its `piv access change-pin` changes it).
    `Check the PIN, then verify it once without changing it with \`yubico-piv-tool -a verify-pin\` (it asks for the PIN; ` +
    `a correct one restores all tries; with several YubiKeys plugged in, add -r and the reader from \`yubico-piv-tool -a list-readers\`); ` +
    `if it is already blocked, unblock it with \`ykman --device ${serial} piv access unblock-pin\` and the PUK.`,
  /** keybridge: the guided setup's name prompt (the tag is known only once the key exists). */
  namePrompt: "📛 Name this identity (press Enter for 'age identity' and the new key's tag)",
  /** keybridge */
  pinBlocked: (serial: number | string) =>
    `The PIN of YubiKey with serial ${serial} is blocked. Unblock it with \`ykman --device ${serial} piv access unblock-pin\` and the PUK.`,
  /** keybridge: the reference sends no touch message in plugin mode. */
  touch: (serial: number | string) => `Touch your YubiKey with serial ${serial}`,
  /** keybridge */
  touchTimeout: (serial: number | string) => `YubiKey with serial ${serial} was not touched in time (or the touch was refused); try again and touch it when it blinks.`,
  /** keybridge */
  removed: (serial: number | string) => `YubiKey with serial ${serial} was removed during the operation; plug it back in and try again.`,
  /** keybridge */
  noTerminal: (serial: number | string) =>
    `YubiKey with serial ${serial} is not plugged in and there is no terminal to ask for it; plug it in, or set AGE_PLUGIN_YUBIKEY_SKIP_NOT_FOUND=1 to skip absent YubiKeys.`,
  /** keybridge */
  readerBusy: (reader: string) =>
    `The YubiKey in "${reader}" is held exclusively by another program (usually scdaemon from GnuPG, or yubikey-agent). ` +
    'Stop it (`gpgconf --kill scdaemon`, or add `disable-ccid` / `pcsc-shared` to ~/.gnupg/scdaemon.conf) and try again.',
  // read when shown: /etc/os-release is not read at every start
  get pcscdNotRunning() {
    return pcscdNotRunning(hostIsNixOS());
  },
  slotNotEmpty: (slot: number) => `Slot ${slot} is not empty. Use --force to overwrite the slot.`,
  noEmptySlots: (serial: number | string) => `YubiKey with serial ${serial} has no empty slots.`,
  slotNotAge: (slot: number) => `Slot ${slot} does not contain an age identity or compatible key.`,
  invalidSlot: (s: string) => `Invalid slot '${s}' (expected number between 1 and 20).`,
  /** keybridge */
  invalidSerial: (s: string) => `Invalid serial '${s}' (expected a number).`,
  invalidPinPolicy: (s: string) => `Invalid PIN policy '${s}' (expected [always, once, never]).`,
  invalidTouchPolicy: (s: string) => `Invalid touch policy '${s}' (expected [always, cached, never]).`,
  forceWith: (flag: string) => `Flag '--force' cannot be used with '${flag}'.`,
  onlyOne: 'Only one of --generate, --identity, --list, --list-all can be specified.',
  listAllSlot: 'Use --list to print the recipient for a single slot.',
  pqOnlyWithGenerate: '--pq makes a post-quantum key, so it goes with --generate (listing shows post-quantum keys by themselves).',
  generating: '🎲 Generating key...',
  generatingCert: '🔏 Generating certificate...',
  touchGenerate: '👆 Please touch the YubiKey',
  defaultMgmt1: '✨ Your YubiKey is using the default management key.',
  defaultMgmt2: "✨ We'll migrate it to a PIN-protected management key.",
  defaultMgmtDone: '... Success!',
  generateSlots: (n: number) => `Generated recipients for ${n} slots. If you intended to select a slot, use --slot.`,
  pinEntry: (serial: number | string) => `Enter PIN for YubiKey with serial ${serial} (default is 123456)`,
  pukEntry: 'Enter current PUK (default is 12345678)',
  newPin: 'Choose a new PIN/PUK',
  repeatPin: 'Repeat the PIN/PUK',
  pinsDontMatch: "PINs don't match",
  mgmtAuthFailed: 'Failed to authenticate with the PIN-protected management key.',
  mgmtCustom: 'Custom unprotected management keys are not supported. Protect it with `ykman piv access change-management-key --protect`.',
} as const;

export const PIN_POLICY_TEXT = {
  always: 'Always (A PIN is required for every decryption, if set)',
  once: 'Once   (A PIN is required once per session, if set)',
  never: 'Never  (A PIN is NOT required to decrypt)',
} as const;

export const TOUCH_POLICY_TEXT = {
  always: 'Always (A physical touch is required for every decryption)',
  cached: 'Cached (A physical touch is required for decryption, and is cached for 15 seconds)',
  never: 'Never  (A physical touch is NOT required to decrypt)',
} as const;
