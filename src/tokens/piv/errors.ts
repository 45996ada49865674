/**
 * Typed PIV errors. Messages are for users and never contain a PIN, PUK or key. PIN_INVALID and
 * PIN_BLOCKED carry the shared meaning of the token error vocabulary (src/tokens/errors.ts), so
 * the plugin kit's PIN loop treats a PIV card like any other token.
 */
import { AppletError } from '../errors.ts';

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

export class PivError extends AppletError<PivErrorCode> {
  override readonly name = 'PivError';
}
