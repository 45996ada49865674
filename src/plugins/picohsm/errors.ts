/**
 * Errors of the Pico HSM family's formats and commands. Messages say what to do; they never
 * contain a PIN or a key.
 */
export type PicoHsmErrorCode = 'INVALID_RECIPIENT' | 'INVALID_IDENTITY' | 'INVALID_STANZA' | 'DEVICE' | 'USAGE';

export class PicoHsmError extends Error {
  readonly code: PicoHsmErrorCode;
  constructor(code: PicoHsmErrorCode, message: string, extra: { cause?: unknown } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'PicoHsmError';
    this.code = code;
  }
}
