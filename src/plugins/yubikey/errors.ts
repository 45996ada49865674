/**
 * Typed errors of the YubiKey plugin. `code` is stable for scripts and tests; the message is the
 * user-facing text (from strings.ts where the reference tool has one) and never holds a PIN, a
 * private key or a file key.
 */
import { TransportError } from '../../transport/apdu.ts';
import { S } from './strings.ts';

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

/** Turns PC/SC failures the user can act on into YubiKey errors with the fix in the message. */
export function translateTransportError(e: unknown, reader?: string): unknown {
  if (e instanceof TransportError) {
    if (e.code === 'PCSC_UNAVAILABLE') return new YubiKeyError('PCSC_UNAVAILABLE', S.pcscdNotRunning, { cause: e });
    if (e.code === 'READER_BUSY') return new YubiKeyError('READER_BUSY', S.readerBusy(reader ?? 'the reader'), { cause: e });
  }
  return e;
}
