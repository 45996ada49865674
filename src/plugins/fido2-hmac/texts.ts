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
