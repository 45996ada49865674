/**
 * The in-process backend: a HID connection straight to a device object in the same process
 * (the virtual authenticator in tests and the demo), without sockets.
 */
import { HidTransportError, ReportQueue, normaliseReport, type HidConnection, type HidDeviceInfo } from './connection.ts';

/** The device side of a HID report channel, as a virtual authenticator offers it. */
export interface HidEndpoint {
  /**
   * Opens one host connection: `send` delivers the device's reports to this host, `gone` tells
   * it the device went away. Returns how the host hands reports to the device.
   */
  attach(send: (report: Uint8Array) => void, gone: () => void): HidAttachment;
}

export interface HidAttachment {
  receive(report: Uint8Array): void;
  detach(): void;
}

export function memoryDevice(endpoint: HidEndpoint, path = 'memory:virtual', product = 'keybridge virtual FIDO2 authenticator'): HidDeviceInfo {
  return {
    path,
    product,
    async open(): Promise<HidConnection> {
      const queue = new ReportQueue();
      let open = true;
      const attachment = endpoint.attach(
        (r) => queue.push(r),
        () => queue.fail(new HidTransportError('DEVICE_GONE', `${path}: the authenticator was unplugged`)),
      );
      return {
        async write(report) {
          if (queue.failed) throw queue.failed;
          const copy = normaliseReport(report);
          // Deliver asynchronously, as a device would.
          setImmediate(() => open && attachment.receive(copy));
        },
        read: (timeoutMs) => queue.next(timeoutMs),
        async close() {
          if (!open) return;
          open = false;
          queue.fail(new HidTransportError('CLOSED', `${path}: connection closed`));
          attachment.detach();
        },
      };
    },
  };
}
