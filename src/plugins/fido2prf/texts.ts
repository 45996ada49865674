/**
 * Every user-facing text of age-plugin-fido2prf: typage's Go plugin's (fido2prf/fido2prf.go,
 * cmd/age-plugin-fido2prf/main.go) where it has one, ours where it has none. `TEXTS` is the
 * plugin kit's view of them. The usage (-h) is in about.ts.
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
  noPinSet: (key: string) => `${key} has no PIN set; fido2prf requires user verification (set a PIN first)`,
  credential: (rpId: string) => `the fido2prf credential for ${rpId}`,
  invalidIdentity: 'malformed fido2prf identity',
  invalidStanza: 'fido2prf: invalid stanza',
  decryptFailed: 'the fido2prf stanza did not decrypt',
  invalidRpId: 'the relying party id must be a domain name (e.g. example.com)',
} as const;

export const TEXTS: KitTexts = {
  invalidRecipient: 'fido2prf has no recipients: encrypt with -i IDENTITY',
  invalidIdentity: T.invalidIdentity,
  invalidStanza: T.invalidStanza,
  decryptFailed: T.decryptFailed,
  insertConfirm: (what) => `Please insert the FIDO2 key holding ${what}`,
  insertRetry: (what) => `Still no plugged-in FIDO2 key holds ${what}; insert it now`,
  insertYes: 'The key is plugged in',
  insertNo: 'Skip this key',
  insertTimeout: (what) => `still no plugged-in FIDO2 key holds ${what}`,
  openFailed: (what) => `no plugged-in FIDO2 key holds ${what}, and the age client could not ask for it`,
  noTerminal: (what) => `no plugged-in FIDO2 key holds ${what}; plug it in and try again (set AGE_PLUGIN_FIDO2PRF_SKIP_NOT_FOUND=1 to skip absent keys without asking)`,
  skipped: (what) => `skipped ${what}: no plugged-in FIDO2 key holds it`,
  pinPrompt: (key) => `Enter the security key PIN for ${key}:`,
  pinRequired: (key) => `the PIN of ${key} is needed and could not be asked (no terminal?)`,
  pinInvalid: (left) => `Wrong PIN (${left} ${left === 1 ? 'try' : 'tries'} left)`,
  pinLastRetry: (key) => `only one PIN try is left on ${key}; not spending it here (a correct PIN entered elsewhere resets the counter)`,
  pinBlocked: (key) => `the PIN of ${key} is blocked; only a reset of its FIDO2 application (which deletes its credentials) helps`,
  touch: (key) => `Touch your security key (${key})...`,
  touchTimeout: (key) => `${key} was not touched in time`,
  removed: (key) => `${key} was unplugged`,
  readerBusy: (key) => `${key} is busy with another program; close it and try again`,
  unavailable: 'FIDO2 keys cannot be reached (USB HID unavailable)',
};
