/**
 * Typed PIV errors. Messages are for users and never contain a PIN, PUK or key.
 */
export type PivErrorCode =
  | 'PIN_INVALID'
  | 'PIN_BLOCKED'
  | 'PUK_INVALID'
  | 'PUK_BLOCKED'
  | 'SECURITY_STATUS'
  | 'NOT_FOUND'
  | 'NOT_SUPPORTED'
  | 'APPLET_NOT_FOUND'
  | 'MGMT_AUTH_FAILED'
  | 'BAD_INPUT'
  | 'CARD';

export class PivError extends Error {
  readonly code: PivErrorCode;
  readonly sw?: number;
  /** For PIN_INVALID / PUK_INVALID: tries left before the reference is blocked. */
  readonly retriesLeft?: number;
  constructor(code: PivErrorCode, message: string, extra: { sw?: number; retriesLeft?: number; cause?: unknown } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'PivError';
    this.code = code;
    if (extra.sw !== undefined) this.sw = extra.sw;
    if (extra.retriesLeft !== undefined) this.retriesLeft = extra.retriesLeft;
  }
}
