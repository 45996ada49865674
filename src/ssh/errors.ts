/**
 * Typed failures of the ssh→age conversions. `code` is stable for scripts and tests; the
 * message says what is wrong and what to do, and never contains key material.
 */
export type SshToAgeErrorCode =
  | 'INVALID_POINT'
  | 'MALFORMED_PUBLIC_KEY'
  | 'INVALID_BASE64'
  | 'NOT_A_KEY_LINE'
  | 'NO_PRIVATE_KEY'
  | 'MALFORMED_PRIVATE_KEY'
  | 'UNSUPPORTED_KEY_TYPE'
  | 'MULTI_KEY'
  | 'PASSPHRASE_REQUIRED'
  | 'WRONG_PASSPHRASE'
  | 'UNSUPPORTED_CIPHER'
  | 'UNSUPPORTED_KDF'
  | 'KDF_COST_TOO_HIGH'
  | 'LINE_TOO_LONG'
  | 'INPUT_TOO_LARGE';

export class KeyConversionError extends Error {
  constructor(
    message: string,
    readonly code: SshToAgeErrorCode = 'MALFORMED_PUBLIC_KEY',
  ) {
    super(message);
    this.name = 'KeyConversionError';
  }
}
