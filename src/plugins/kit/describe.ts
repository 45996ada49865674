/**
 * The text reported for a failure of an identity on a device: the family's own description
 * first, then the shared token errors in the family's words, then the error's message.
 */
import { asTokenError, TokenError } from '../../tokens/errors.ts';
import type { DeviceRef, TokenFamily } from './family.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function describeError(family: TokenFamily<any, any, any, any>, e: unknown, device: DeviceRef): string {
  const own = family.describeError?.(e, device);
  if (own !== undefined) return own;
  const t = asTokenError(e);
  const { texts } = family;
  if (t instanceof TokenError) {
    switch (t.code) {
      case 'CARD_REMOVED':
        return texts.removed(device.label);
      case 'READER_BUSY':
        return texts.readerBusy((t as TokenError & { reader?: string }).reader ?? device.label);
      case 'UNAVAILABLE':
        return texts.unavailable;
      default:
        return t.message;
    }
  }
  return t instanceof Error ? t.message : String(t);
}
