/**
 * Every user-facing text of age-plugin-fido2prf: typage's Go plugin's (fido2prf/fido2prf.go,
 * cmd/age-plugin-fido2prf/main.go) where it has one, ours where it has none.
 */
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
  pinWrong: (key: string, left: number) => `Wrong PIN (${left} ${left === 1 ? 'try' : 'tries'} left). Enter the security key PIN for ${key}:`,
  pinRequired: (key: string) => `the PIN of ${key} is needed and could not be asked (no terminal?)`,
  noPinSet: (key: string) => `${key} has no PIN set; fido2prf requires user verification (set a PIN first)`,
  touchKey: (key: string) => `Touch your security key (${key})...`,
  absentQuestion: (rpId: string) => `Please insert the FIDO2 key holding the fido2prf credential for ${rpId}`,
  absentYes: 'The key is plugged in',
  absentNo: 'Skip this key',
  absentNoTerminal: (rpId: string) =>
    `no plugged-in FIDO2 key holds the fido2prf credential for ${rpId}; plug it in and try again (set AGE_PLUGIN_FIDO2PRF_SKIP_NOT_FOUND=1 to skip absent keys without asking)`,
  absentEncrypt: (rpId: string) => `no plugged-in FIDO2 key holds the fido2prf credential for ${rpId}`,
  invalidRpId: 'the relying party id must be a domain name (e.g. example.com)',
} as const;

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
