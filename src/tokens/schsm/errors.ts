/**
 * Typed SmartCard-HSM errors. The codes the applets share (PIN_INVALID with `retriesLeft`,
 * PIN_BLOCKED, NOT_LOGGED_IN, CARD_REMOVED, READER_BUSY, TOUCH_TIMEOUT for the press-to-confirm
 * button) carry the meaning of the shared token vocabulary (src/tokens/errors.ts), so the plugin
 * kit's PIN loop and texts treat a Pico HSM like any other token; NOT_INITIALISED and the rest are
 * this applet's. Messages are for users and never contain a PIN or a key.
 */
import { AppletError, type TokenErrorCode } from '../errors.ts';

export type ScHsmErrorCode =
  | Exclude<TokenErrorCode, 'UNAVAILABLE'>
  /** The device has never been initialised (no PIN, no keys). */
  | 'NOT_INITIALISED'
  | 'APPLET_NOT_FOUND'
  | 'NOT_FOUND'
  | 'NOT_SUPPORTED'
  /** The key may not be used for this operation. */
  | 'NOT_ALLOWED'
  | 'BAD_INPUT'
  | 'CARD';

export class ScHsmError extends AppletError<ScHsmErrorCode> {
  override readonly name = 'ScHsmError';
}
