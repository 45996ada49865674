/**
 * The 64-byte HID report seam (the shape of python-fido2's `CtapHidConnection`): everything
 * above it (CTAPHID framing, CTAP2) is the same whether the reports travel through a USB HID
 * device (node-hid), the Pico FIDO emulator's TCP framing, or an in-process virtual
 * authenticator. A connection moves whole reports: exactly 64 bytes each way, no report-id byte
 * (backends that need one add it).
 */

export const HID_REPORT_SIZE = 64;

export type HidErrorCode = 'DEVICE_GONE' | 'TIMEOUT' | 'ACCESS_DENIED' | 'OPEN_FAILED' | 'CLOSED';

export class HidTransportError extends Error {
  constructor(
    readonly code: HidErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HidTransportError';
  }
}

export interface HidConnection {
  /** Sends one report (exactly 64 bytes). */
  write(report: Uint8Array): Promise<void>;
  /**
   * The next report from the device (64 bytes). Rejects with `TIMEOUT` after `timeoutMs`, with
   * `DEVICE_GONE` when the device disappears (unplugged, socket closed), `CLOSED` after close().
   */
  read(timeoutMs: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** How a plugged-in authenticator is described before it is opened. */
export interface HidDeviceInfo {
  /** Stable within one enumeration: a hidraw path, `tcp:HOST:PORT`, or `memory:NAME`. */
  readonly path: string;
  readonly vendorId?: number;
  readonly productId?: number;
  readonly product?: string;
  readonly manufacturer?: string;
  readonly serialNumber?: string;
  open(): Promise<HidConnection>;
}

/**
 * Incoming reports of one connection, queued until read. Backends push what arrives and fail
 * the queue when the device goes away; readers wait with a bound.
 */
export class ReportQueue {
  private readonly reports: Uint8Array[] = [];
  private waiter?: { resolve: (r: Uint8Array) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
  private failure?: HidTransportError;
  /** Bound on queued reports: a device that floods is treated as broken. */
  private static readonly MAX_QUEUED = 4096;

  push(report: Uint8Array): void {
    if (this.failure) return;
    const copy = normaliseReport(report);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.resolve(copy);
      return;
    }
    if (this.reports.length >= ReportQueue.MAX_QUEUED) {
      this.fail(new HidTransportError('DEVICE_GONE', 'the FIDO2 device sent more reports than were read; it was disconnected'));
      return;
    }
    this.reports.push(copy);
  }

  fail(error: HidTransportError): void {
    if (this.failure) return;
    this.failure = error;
    this.reports.length = 0;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.reject(error);
    }
  }

  get failed(): HidTransportError | undefined {
    return this.failure;
  }

  next(timeoutMs: number): Promise<Uint8Array> {
    const queued = this.reports.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new Error('ReportQueue: concurrent reads'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new HidTransportError('TIMEOUT', `no answer from the FIDO2 device within ${timeoutMs} ms`));
      }, Math.max(0, timeoutMs));
      this.waiter = { resolve, reject, timer };
    });
  }
}

/** A report as 64 bytes: shorter input is zero-padded, longer input is refused. */
export function normaliseReport(report: Uint8Array): Uint8Array {
  if (report.length > HID_REPORT_SIZE) throw new RangeError(`HID report of ${report.length} bytes (max ${HID_REPORT_SIZE})`);
  const out = new Uint8Array(HID_REPORT_SIZE);
  out.set(report);
  return out;
}
