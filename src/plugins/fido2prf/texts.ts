/**
 * Every user-facing text of age-plugin-fido2prf: typage's Go plugin's (fido2prf/fido2prf.go,
 * cmd/age-plugin-fido2prf/main.go) where it has one, ours where it has none. `TEXTS` is the
 * plugin kit's view of them.
 */
import type { KitTexts } from '../kit/family.ts';

export const T = {
  // The reference's texts.
  pinPrompt: 'Enter the security key PIN:',
  generatePinPrompt: 'Enter the security key PIN: ',
  noDevices: 'no FIDO2 devices found',
  multipleDevices: 'multiple FIDO2 devices found, please remove all but one',
  readPin: (why: string) => `Error reading the PIN: ${why}`,
  errorLine: (msg: string) => `Error: ${msg}`,

  // Ours.
  pinPromptKey: (key: string) => `Enter the security key PIN for ${key}:`,
  pinWrong: (left: number) => `Wrong PIN (${left} ${left === 1 ? 'try' : 'tries'} left)`,
  pinLastRetry: (key: string) => `only one PIN try is left on ${key}; not spending it here (a correct PIN entered elsewhere resets the counter)`,
  pinBlocked: (key: string) => `the PIN of ${key} is blocked; only a reset of its FIDO2 application (which deletes its credentials) helps`,
  pinRequired: (key: string) => `the PIN of ${key} is needed and could not be asked (no terminal?)`,
  noPinSet: (key: string) => `${key} has no PIN set; fido2prf requires user verification (set a PIN first)`,
  touchKey: (key: string) => `Touch your security key (${key})...`,
  absentQuestion: (what: string) => `Please insert the FIDO2 key holding ${what}`,
  absentRetry: (what: string) => `Still no plugged-in FIDO2 key holds ${what}; insert it now`,
  absentStill: (what: string) => `still no plugged-in FIDO2 key holds ${what}`,
  absentAskFailed: (what: string) => `no plugged-in FIDO2 key holds ${what}, and the age client could not ask for it`,
  skipped: (what: string) => `skipped ${what}: no plugged-in FIDO2 key holds it`,
  credential: (rpId: string) => `the fido2prf credential for ${rpId}`,
  touchTimeout: (key: string) => `${key} was not touched in time`,
  removed: (key: string) => `${key} was unplugged`,
  busy: (key: string) => `${key} is busy with another program; close it and try again`,
  unavailable: 'FIDO2 keys cannot be reached (USB HID unavailable)',
  invalidIdentity: 'malformed fido2prf identity',
  invalidStanza: 'fido2prf: invalid stanza',
  decryptFailed: 'the fido2prf stanza did not decrypt',
  absentYes: 'The key is plugged in',
  absentNo: 'Skip this key',
  absentNoTerminal: (what: string) => `no plugged-in FIDO2 key holds ${what}; plug it in and try again (set AGE_PLUGIN_FIDO2PRF_SKIP_NOT_FOUND=1 to skip absent keys without asking)`,
  invalidRpId: 'the relying party id must be a domain name (e.g. example.com)',
} as const;

export const TEXTS: KitTexts = {
  invalidRecipient: 'fido2prf has no recipients: encrypt with -i IDENTITY',
  invalidIdentity: T.invalidIdentity,
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

export const USAGE = `Usage of age-plugin-fido2prf:
  -generate RPID
        generate a new credential for the relying party RPID (e.g. example.com) and print its
        identity; needs exactly one FIDO2 key plugged in and its PIN

The identity is symmetric: encrypt with \`age -e -i identity.txt\`, decrypt with
\`age -d -i identity.txt\`. Files are compatible with typage's WebAuthn fido2prf (browser passkeys
and security keys of the same credential).

Environment:
  KEYBRIDGE_FIDO2_TCP=HOST:PORT   use the FIDO2 authenticator at this TCP endpoint as the only key
  AGE_PLUGIN_FIDO2PRF_SKIP_NOT_FOUND=1
                                  skip identities whose key is not plugged in instead of asking`;
