/**
 * Errors the kit raises itself (beyond the shared token errors of src/tokens/errors.ts). The
 * message is the family's text for the user.
 */
import { TokenError } from '../../tokens/errors.ts';

export type KitErrorCode =
  /** The PIN loop refused to spend the last try. */
  | 'PIN_LAST_RETRY'
  /** No PIN source gave a PIN (the user declined, or nobody could be asked). */
  | 'PIN_REQUIRED'
  /** The device is not plugged in and could not be waited for. */
  | 'NOT_FOUND';

export class KitError extends TokenError {
  declare readonly code: KitErrorCode;
  constructor(code: KitErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'KitError';
  }
}
