/**
 * Typed CTAP2 errors. Every CTAP status code becomes a `Ctap2Error` whose `kind` is the CTAP
 * meaning (PIN invalid, PIN auth blocked until replug, no credentials, denied …) and whose `code`
 * is the shared token vocabulary (src/tokens/errors.ts: PIN_INVALID with `retriesLeft`,
 * PIN_BLOCKED, CARD_REMOVED, READER_BUSY, TOUCH_TIMEOUT, UNAVAILABLE) where the meaning is
 * shared, so the plugin kit's PIN loop and texts handle CTAP2 keys like any other token.
 * `status` keeps the authenticator's code. Messages never contain a PIN or key material.
 */
import { CtapHidError } from '../../transport/ctaphidError.ts';
import { TokenError } from '../errors.ts';
import { ctapStatusName } from './status.ts';

export type Ctap2ErrorKind =
  | 'PIN_INVALID' // wrong PIN, `retriesLeft` tries left
  | 'PIN_LAST_TRY' // one try left: refused before spending it
  | 'PIN_AUTH_BLOCKED' // three wrong PINs in a row: unplug and replug the key
  | 'PIN_BLOCKED' // no PIN tries left: only a reset (losing every credential) helps
  | 'PIN_NOT_SET'
  | 'PIN_REQUIRED'
  | 'PIN_POLICY' // new PIN too short / too long
  | 'PIN_AUTH_INVALID'
  | 'NO_CREDENTIALS' // the key does not hold this credential
  | 'OPERATION_DENIED' // the user refused (or the key's button said no)
  | 'TOUCH_TIMEOUT'
  | 'CANCELLED'
  | 'DEVICE_GONE'
  | 'DEVICE_TIMEOUT'
  | 'DEVICE_BUSY'
  | 'ACCESS_DENIED'
  | 'UNSUPPORTED'
  | 'DEVICE';

/** The shared token code of a CTAP2 error kind (its own kind where nothing is shared). */
const SHARED_CODE: Partial<Record<Ctap2ErrorKind, string>> = {
  PIN_INVALID: 'PIN_INVALID',
  PIN_BLOCKED: 'PIN_BLOCKED',
  DEVICE_GONE: 'CARD_REMOVED',
  DEVICE_BUSY: 'READER_BUSY',
  TOUCH_TIMEOUT: 'TOUCH_TIMEOUT',
  ACCESS_DENIED: 'UNAVAILABLE',
};

export class Ctap2Error extends TokenError {
  readonly kind: Ctap2ErrorKind;
  readonly status?: number;

  constructor(kind: Ctap2ErrorKind, message: string, extra: { status?: number; retriesLeft?: number; cause?: unknown } = {}) {
    super(SHARED_CODE[kind] ?? kind, message, { ...(extra.retriesLeft !== undefined ? { retriesLeft: extra.retriesLeft } : {}), ...(extra.cause !== undefined ? { cause: extra.cause } : {}) });
    this.name = 'Ctap2Error';
    this.kind = kind;
    if (extra.status !== undefined) this.status = extra.status;
  }
}

const KIND_BY_STATUS: Record<number, [Ctap2ErrorKind, string]> = {
  0x31: ['PIN_INVALID', 'wrong PIN'],
  0x32: ['PIN_BLOCKED', 'the PIN is blocked (no tries left); only a reset of the FIDO2 application, which deletes its credentials, makes the key usable again'],
  0x33: ['PIN_AUTH_INVALID', 'the security key refused the PIN authentication'],
  0x34: ['PIN_AUTH_BLOCKED', 'three wrong PINs in a row: unplug the security key and plug it in again before the next try'],
  0x35: ['PIN_NOT_SET', 'the security key has no PIN set'],
  0x36: ['PIN_REQUIRED', 'the security key needs its PIN for this'],
  0x37: ['PIN_POLICY', 'the new PIN does not meet the security key\'s policy (length)'],
  0x38: ['PIN_AUTH_INVALID', 'the PIN token expired; try again'],
  0x2e: ['NO_CREDENTIALS', 'the security key does not hold this credential'],
  0x22: ['NO_CREDENTIALS', 'the security key does not accept this credential'],
  0x27: ['OPERATION_DENIED', 'the request was denied on the security key'],
  0x2f: ['TOUCH_TIMEOUT', 'the security key was not touched in time'],
  0x3a: ['TOUCH_TIMEOUT', 'the security key was not touched in time'],
  0x2d: ['CANCELLED', 'the request was cancelled'],
  0x26: ['UNSUPPORTED', 'the security key does not support this algorithm'],
  0x2b: ['UNSUPPORTED', 'the security key does not support an option of this request'],
  0x2c: ['UNSUPPORTED', 'the security key refused an option of this request'],
  0x3b: ['UNSUPPORTED', 'the security key requires user presence for this'],
  0x06: ['DEVICE_BUSY', 'the security key is busy with another program'],
};

/** The error for a CTAP status byte other than SUCCESS. */
export function ctapStatusError(status: number, what: string): Ctap2Error {
  const known = KIND_BY_STATUS[status];
  const name = ctapStatusName(status);
  if (known) return new Ctap2Error(known[0], `${what}: ${known[1]}`, { status });
  return new Ctap2Error('DEVICE', `${what} failed on the security key (CTAP2 ${name})`, { status });
}

/** Transport failures as CTAP2 errors of the same vocabulary. */
export function fromTransport(err: unknown, what: string): unknown {
  if (!(err instanceof CtapHidError)) return err;
  const kind: Ctap2ErrorKind =
    err.code === 'DEVICE_GONE'
      ? 'DEVICE_GONE'
      : err.code === 'TIMEOUT'
        ? 'DEVICE_TIMEOUT'
        : err.code === 'CANCELLED'
          ? 'CANCELLED'
          : err.code === 'BUSY'
            ? 'DEVICE_BUSY'
            : err.code === 'ACCESS_DENIED'
              ? 'ACCESS_DENIED'
              : 'DEVICE';
  const message = err.code === 'DEVICE_GONE' ? `${what}: the security key was unplugged (${err.message})` : `${what}: ${err.message}`;
  return new Ctap2Error(kind, message, { cause: err });
}

/** A failure of a FIDO2 plugin that is not a CTAP status (an absent key when encrypting …); `code` names the plugin. */
export class Fido2PluginError extends TokenError {
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'Fido2PluginError';
  }
}
