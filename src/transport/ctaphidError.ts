/**
 * The error of the CTAPHID host side (ctaphid.ts), on its own so that code which only tells
 * errors apart (the CTAP2 error mapping) does not load the transport.
 */
export type CtapHidErrorCode = 'HID_ERROR' | 'BUSY' | 'TIMEOUT' | 'DEVICE_GONE' | 'CANCELLED' | 'PROTOCOL' | 'OPEN_FAILED' | 'ACCESS_DENIED';

export class CtapHidError extends Error {
  constructor(
    readonly code: CtapHidErrorCode,
    message: string,
    readonly hidError?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CtapHidError';
  }
}
