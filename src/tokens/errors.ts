/**
 * The error vocabulary every token session shares (yubikit's `InvalidPinError` and friends):
 * what went wrong in terms a PIN loop, a presence check or a user can act on, whatever the applet
 * (PIV, SmartCard-HSM, CTAP2). Sessions throw these (or subclasses with applet-specific codes);
 * the plugin kit's PIN loop and error texts are written once against them. Messages never hold a
 * PIN, a key or a file key.
 */
import { TransportError } from '../transport/apdu.ts';

export type TokenErrorCode =
  /** The PIN was wrong; `retriesLeft` tries remain (> 0). */
  | 'PIN_INVALID'
  /** The PIN is blocked (no tries left, or PIN auth blocked until a power cycle). */
  | 'PIN_BLOCKED'
  /** The operation needs a verified PIN (or another login) first. */
  | 'NOT_LOGGED_IN'
  /** The token was removed (or the connection lost) during the operation. */
  | 'CARD_REMOVED'
  /** Another program holds the token exclusively. */
  | 'READER_BUSY'
  /** The user did not touch the token in time (or refused). */
  | 'TOUCH_TIMEOUT'
  /** The reader/HID service is not there (pcscd not running, no HID access). */
  | 'UNAVAILABLE';

export class TokenError extends Error {
  readonly code: string;
  /** For PIN_INVALID: tries left before the PIN is blocked. */
  readonly retriesLeft?: number;
  constructor(code: TokenErrorCode | (string & {}), message: string, extra: { retriesLeft?: number; cause?: unknown } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'TokenError';
    this.code = code;
    if (extra.retriesLeft !== undefined) this.retriesLeft = extra.retriesLeft;
  }
}

export class PinInvalid extends TokenError {
  declare readonly retriesLeft: number;
  constructor(retriesLeft: number, message = `Invalid PIN (${retriesLeft} tries remaining before it is blocked)`, cause?: unknown) {
    super('PIN_INVALID', message, { retriesLeft, cause });
    this.name = 'PinInvalid';
  }
}

export class PinBlocked extends TokenError {
  constructor(message = 'PIN blocked', cause?: unknown) {
    super('PIN_BLOCKED', message, { retriesLeft: 0, cause });
    this.name = 'PinBlocked';
  }
}

/** The vocabulary's plain members: a shared code, a default message, an optional cause. */
function sharedError(code: TokenErrorCode, name: string, fallback: string) {
  return class extends TokenError {
    constructor(message = fallback, cause?: unknown) {
      super(code, message, { cause });
      this.name = name;
    }
  };
}

export class NotLoggedIn extends sharedError('NOT_LOGGED_IN', 'NotLoggedIn', 'The PIN must be verified first') {}
export class CardRemoved extends sharedError('CARD_REMOVED', 'CardRemoved', 'The token was removed') {}
export class TouchTimeout extends sharedError('TOUCH_TIMEOUT', 'TouchTimeout', 'The token was not touched in time') {}
export class TokenUnavailable extends sharedError('UNAVAILABLE', 'TokenUnavailable', 'The token service is not available') {}

export class ReaderBusy extends TokenError {
  constructor(readonly reader: string, message = `${reader}: the token is in use by another program`, cause?: unknown) {
    super('READER_BUSY', message, { cause });
    this.name = 'ReaderBusy';
  }
}

/**
 * An applet's own error (`PivError`, `ScHsmError`): its codes besides the shared ones, and the
 * status word the card answered when there was one.
 */
export class AppletError<C extends string> extends TokenError {
  declare readonly code: C;
  readonly sw?: number;
  constructor(code: C, message: string, extra: { sw?: number; retriesLeft?: number; cause?: unknown } = {}) {
    super(code, message, extra);
    if (extra.sw !== undefined) this.sw = extra.sw;
  }
}

/** Whether `e` is a token error with this shared code. */
export function isTokenError(e: unknown, code: TokenErrorCode): e is TokenError {
  return e instanceof TokenError && e.code === code;
}

/**
 * The shared meaning of a failure below the token layer: transport failures the user can act on
 * become token errors (`reader` names the reader for READER_BUSY); anything else is returned as is.
 */
export function asTokenError(e: unknown, reader?: string): unknown {
  if (e instanceof TransportError) {
    if (e.code === 'CARD_REMOVED' || e.code === 'CLOSED') return new CardRemoved(e.message, e);
    if (e.code === 'READER_BUSY') return new ReaderBusy(reader ?? 'the reader', e.message, e);
    if (e.code === 'PCSC_UNAVAILABLE') return new TokenUnavailable(e.message, e);
  }
  return e;
}
