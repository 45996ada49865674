/**
 * Typed errors of the YubiKey plugin. `code` is stable for scripts and tests; the message is the
 * user-facing text (from strings.ts where the reference tool has one) and never holds a PIN, a
 * private key or a file key.
 */
export type YubiKeyErrorCode =
  | 'INVALID_RECIPIENT'
  | 'INVALID_STUB'
  | 'INVALID_STANZA'
  | 'DECRYPT_FAILED'
  | 'STUB_MISMATCH'
  | 'NOT_FOUND'
  | 'MULTIPLE_YUBIKEYS'
  | 'PIN_REQUIRED'
  | 'PIN_INVALID'
  | 'PIN_BLOCKED'
  | 'PIN_LAST_RETRY'
  | 'TOUCH_TIMEOUT'
  | 'CARD_REMOVED'
  | 'READER_BUSY'
  | 'PCSC_UNAVAILABLE'
  | 'SLOT_OCCUPIED'
  | 'NO_EMPTY_SLOT'
  | 'SLOT_NOT_AGE'
  | 'MANAGEMENT_KEY'
  | 'USAGE'
  | 'CARD';

export class YubiKeyError extends Error {
  readonly code: YubiKeyErrorCode;
  constructor(code: YubiKeyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'YubiKeyError';
    this.code = code;
  }
}
