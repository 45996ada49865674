/**
 * Typed PIV errors. Messages are for users and never contain a PIN, PUK or key. PIN_INVALID and
 * PIN_BLOCKED carry the shared meaning of the token error vocabulary (src/tokens/errors.ts), so
 * the plugin kit's PIN loop treats a PIV card like any other token.
 */
import { TokenError } from '../errors.ts';

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

export class PivError extends TokenError {
  declare readonly code: PivErrorCode;
  readonly sw?: number;
  constructor(code: PivErrorCode, message: string, extra: { sw?: number; retriesLeft?: number; cause?: unknown } = {}) {
    super(code, message, { ...(extra.retriesLeft !== undefined ? { retriesLeft: extra.retriesLeft } : {}), cause: extra.cause });
    this.name = 'PivError';
    if (extra.sw !== undefined) this.sw = extra.sw;
  }
}
