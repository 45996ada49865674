/**
 * Every user-facing text of age-plugin-fido2-hmac, in one place: the reference's
 * (olastor/age-plugin-fido2-hmac v0.4.0) where it has one, so a user (or a script) sees the same
 * words; ours where the reference has none (retries, absent keys, no terminal). `TEXTS` is the
 * plugin kit's view of them.
 */
import type { KitTexts } from '../kit/family.ts';

export const T = {
  // The reference's texts.
  pinPrompt: 'Please enter your PIN:',
  generatePinPrompt: 'Please enter your PIN: ',
  insertToken: 'Please insert your token now...',
  touch: 'Please touch your token...',
  requirePinQuestion: 'Do you want to require a PIN for decryption?',
  separateIdentityQuestion: 'Are you fine with having a separate identity (better privacy)?',
  yes: 'yes',
  no: 'no',
  datalessHint: '# for decryption, use `age -d -j fido2-hmac` without any identity file.',

  // Ours.
  touchKey: (key: string) => `Please touch your token (${key})...`,
  pinPromptKey: (key: string) => `Please enter your PIN for ${key}:`,
  pinWrong: (left: number) => `Wrong PIN (${left} ${left === 1 ? 'try' : 'tries'} left)`,
  pinLastRetry: (key: string) =>
    `only one PIN try is left on ${key}; not spending it here. Enter the PIN where you can check it (e.g. \`ykman fido access verify-pin\`): a correct PIN resets the counter`,
  pinBlocked: (key: string) => `the PIN of ${key} is blocked; only a reset of its FIDO2 application (which deletes its credentials) helps`,
  absentQuestion: (what: string) => `Please insert the FIDO2 key holding ${what}`,
  absentRetry: (what: string) => `Still no plugged-in FIDO2 key holds ${what}; insert it now`,
  absentYes: 'The key is plugged in',
  absentNo: 'Skip this key',
  absentNoTerminal: (what: string) =>
    `no plugged-in FIDO2 key holds ${what}; plug it in and try again (set AGE_PLUGIN_FIDO2_HMAC_SKIP_NOT_FOUND=1 to skip absent keys without asking)`,
  absentStill: (what: string) => `still no plugged-in FIDO2 key holds ${what}`,
  absentAskFailed: (what: string) => `no plugged-in FIDO2 key holds ${what}, and the age client could not ask for it`,
  skipped: (what: string) => `skipped ${what}: no plugged-in FIDO2 key holds it`,
  touchTimeout: (key: string) => `${key} was not touched in time`,
  removed: (key: string) => `${key} was unplugged`,
  busy: (key: string) => `${key} is busy with another program; close it and try again`,
  unavailable: 'FIDO2 keys cannot be reached (USB HID unavailable)',
  invalidStanza: 'invalid fido2-hmac stanza',
  decryptFailed: 'the fido2-hmac stanza did not decrypt',
  noKey: 'no FIDO2 key with hmac-secret is plugged in',
  chooseKey: (n: number) => `Several FIDO2 keys are plugged in; which one (1-${n})?`,
  pinNotSetButRequired: 'this credential requires a PIN, but the key has no PIN set',
  pinRequired: (key: string) => `the PIN of ${key} is needed and could not be asked (no terminal?)`,
  unsupportedAlgorithm: (a: string) => `Unknown algorithm: "${a}"`,
  invalidIdentity: (msg: string) => `invalid fido2-hmac identity: ${msg}`,
  invalidRecipient: (msg: string) => `invalid fido2-hmac recipient: ${msg}`,
  hmacLength: 'the key returned an hmac-secret output of the wrong length',
} as const;

export const USAGE = `Usage:
  age-plugin-fido2-hmac [-s] [-p] [-a ALG] -g
  age-plugin-fido2-hmac -y [IDENTITY_FILE]
  age-plugin-fido2-hmac -m

Options:
    -g, --generate        Generate new credentials interactively.
    -s, --symmetric       Use symmetric encryption and use a new salt for every encryption.
                          The token must be present for every operation.
    -p, --post-quantum    Use post-quantum MLKEM768-X25519 hybrid encryption instead of X25519.
    -y [FILE]             Print the recipient of each identity in FILE (default: stdin);
                          v2 identities need their token.
    -m, --magic-identity  Print the magic identity to use when no identity is required.
    -a, --algorithm       Choose a specific algorithm when creating the fido2 credential.
                          Can be one of 'es256', 'eddsa', or 'rs256'. Default: es256
    -v, --version         Show the version.
    -h, --help            Show this help message.

Examples:
  $ age-plugin-fido2-hmac -g > identity.txt # only contains an identity if chosen by user
  $ cat identity.txt | grep 'public key' | grep -oP 'age1.*' > recipient.txt
  $ echo 'secret' | age -R recipient.txt -o secret.enc
  $ age -d -i identity.txt secret.enc # when you created an identity
  $ age -d -j fido2-hmac secret.enc # when there is no identity

Environment Variables:

  FIDO2_TOKEN     This variable can be used to force a specific device path. Please note that
                  /dev/hid* paths are ephemeral and fido2 tokens (mostly) have no identifier.
                  Therefore, it's in general not recommended to use this environment variable.
  KEYBRIDGE_FIDO2_TCP=HOST:PORT
                  Use the FIDO2 authenticator at this TCP endpoint (Pico FIDO emulator framing,
                  keybridge sim fido2) as the only key.
  FIDO2_HMAC_PQ=1
                  Encrypting to a (separate) identity with age -e -i writes a post-quantum
                  mlkem768x25519 stanza instead of X25519.
  AGE_PLUGIN_FIDO2_HMAC_SKIP_NOT_FOUND=1
                  Skip credentials whose key is not plugged in instead of asking for it.`;

export const TEXTS: KitTexts = {
  invalidRecipient: T.invalidRecipient('malformed'),
  invalidIdentity: T.invalidIdentity('malformed'),
  invalidStanza: T.invalidStanza,
  decryptFailed: T.decryptFailed,
  insertConfirm: T.absentQuestion,
  insertRetry: T.absentRetry,
  insertYes: T.absentYes,
  insertNo: T.absentNo,
  insertTimeout: T.absentStill,
  openFailed: T.absentAskFailed,
  noTerminal: T.absentNoTerminal,
  skipped: T.skipped,
  pinPrompt: T.pinPromptKey,
  pinRequired: T.pinRequired,
  pinInvalid: T.pinWrong,
  pinLastRetry: T.pinLastRetry,
  pinBlocked: T.pinBlocked,
  touch: T.touchKey,
  touchTimeout: T.touchTimeout,
  removed: T.removed,
  readerBusy: T.busy,
  unavailable: T.unavailable,
};
