/**
 * Typed SmartCard-HSM errors, in the shared token vocabulary (PIN_INVALID with `retriesLeft`,
 * PIN_BLOCKED, NOT_LOGGED_IN, CARD_REMOVED, READER_BUSY, TOUCH_TIMEOUT for the press-to-confirm
 * button) plus what only this applet says (NOT_INITIALISED …). Messages are for users and never
 * contain a PIN or a key.
 */
export type ScHsmErrorCode =
  | 'PIN_INVALID'
  | 'PIN_BLOCKED'
  | 'NOT_LOGGED_IN'
  | 'CARD_REMOVED'
  | 'READER_BUSY'
  | 'TOUCH_TIMEOUT'
  /** The device has never been initialised (no PIN, no keys). */
  | 'NOT_INITIALISED'
  | 'APPLET_NOT_FOUND'
  | 'NOT_FOUND'
  | 'NOT_SUPPORTED'
  /** The key may not be used for this operation. */
  | 'NOT_ALLOWED'
  | 'BAD_INPUT'
  | 'CARD';

export class ScHsmError extends Error {
  readonly code: ScHsmErrorCode;
  readonly sw?: number;
  /** For PIN_INVALID: tries left before the PIN is blocked. */
  readonly retriesLeft?: number;
  constructor(code: ScHsmErrorCode, message: string, extra: { sw?: number; retriesLeft?: number; cause?: unknown } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'ScHsmError';
    this.code = code;
    if (extra.sw !== undefined) this.sw = extra.sw;
    if (extra.retriesLeft !== undefined) this.retriesLeft = extra.retriesLeft;
  }
}
