/**
 * The USB HID backend over node-hid (hidapi). FIDO authenticators are the HID interfaces with
 * usage page 0xF1D0 and usage 0x01 (FIDO Alliance; systemd's fido_id matches the same). On
 * Linux hidraw a write carries a leading report-id byte (0x00, FIDO devices use no report ids)
 * before the 64-byte report; reads come without it.
 *
 * The node-hid module is injected (`NodeHidModule`), so enumeration and the report-id rule are
 * testable on machines without any HID device; `loadNodeHid()` loads the real one.
 */
import { accessSync, constants } from 'node:fs';
import { HID_REPORT_SIZE, HidTransportError, ReportQueue, type HidConnection, type HidDeviceInfo } from './connection.ts';

export const FIDO_USAGE_PAGE = 0xf1d0;
export const FIDO_USAGE = 0x01;

export interface NodeHidDevice {
  vendorId: number;
  productId: number;
  path?: string | undefined;
  serialNumber?: string | undefined;
  manufacturer?: string | undefined;
  product?: string | undefined;
  usagePage?: number | undefined;
  usage?: number | undefined;
}

export interface NodeHidHandle {
  on(event: 'data', listener: (data: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  write(values: number[] | Buffer): number;
  close(): void;
}

/** The part of node-hid this backend uses. */
export interface NodeHidModule {
  devices(): NodeHidDevice[];
  HID: new (path: string) => NodeHidHandle;
}

/** What to do when a hidraw node exists but is not readable and writable by this user. */
export const UDEV_HINT = 'install the udev rules with `sudo keybridge udev install` (or copy udev/70-keybridge-tokens.rules to /etc/udev/rules.d/), then unplug and replug the key';

export async function loadNodeHid(): Promise<NodeHidModule> {
  try {
    const mod = (await import('node-hid')) as unknown as { default?: NodeHidModule } & NodeHidModule;
    return mod.default ?? mod;
  } catch (err) {
    throw new HidTransportError('OPEN_FAILED', `USB HID access is unavailable (node-hid did not load: ${(err as Error).message.split('\n')[0]}); on Debian/Ubuntu install libusb-1.0-0 and libudev1`, { cause: err });
  }
}

/** The FIDO interfaces among node-hid's devices, one entry per path. */
export function fidoHidDevices(hid: NodeHidModule, access: (path: string) => void = defaultAccess): HidDeviceInfo[] {
  const seen = new Set<string>();
  const out: HidDeviceInfo[] = [];
  for (const d of hid.devices()) {
    if (d.usagePage !== FIDO_USAGE_PAGE || d.usage !== FIDO_USAGE || !d.path || seen.has(d.path)) continue;
    seen.add(d.path);
    const path = d.path;
    const name = d.product?.trim() || `FIDO2 key ${hex4(d.vendorId)}:${hex4(d.productId)}`;
    out.push({
      path,
      vendorId: d.vendorId,
      productId: d.productId,
      product: name,
      ...(d.manufacturer ? { manufacturer: d.manufacturer } : {}),
      ...(d.serialNumber ? { serialNumber: d.serialNumber } : {}),
      open: async () => openHid(hid, path, name, access),
    });
  }
  return out;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

function defaultAccess(path: string): void {
  if (path.startsWith('/dev/')) accessSync(path, constants.R_OK | constants.W_OK);
}

function openHid(hid: NodeHidModule, path: string, name: string, access: (path: string) => void): HidConnection {
  let handle: NodeHidHandle;
  try {
    handle = new hid.HID(path);
  } catch (err) {
    try {
      access(path);
    } catch (accessErr) {
      if ((accessErr as NodeJS.ErrnoException).code === 'EACCES' || (accessErr as NodeJS.ErrnoException).code === 'EPERM') {
        throw new HidTransportError('ACCESS_DENIED', `no permission to open ${path} (${name}): ${UDEV_HINT}`, { cause: err });
      }
    }
    throw new HidTransportError('OPEN_FAILED', `cannot open ${path} (${name}): ${(err as Error).message.slice(0, 200)}`, { cause: err });
  }
  const queue = new ReportQueue();
  let closed = false;
  handle.on('data', (data: Buffer) => {
    if (data.length > HID_REPORT_SIZE) queue.fail(new HidTransportError('DEVICE_GONE', `${name}: report of ${data.length} bytes`));
    else queue.push(data);
  });
  handle.on('error', (err: Error) => {
    queue.fail(new HidTransportError(closed ? 'CLOSED' : 'DEVICE_GONE', closed ? `${name}: closed` : `${name} was unplugged or stopped answering (${err.message.slice(0, 120)})`, { cause: err }));
  });
  return {
    async write(report) {
      if (report.length !== HID_REPORT_SIZE) throw new RangeError(`HID report must be ${HID_REPORT_SIZE} bytes`);
      if (queue.failed) throw queue.failed;
      const out = Buffer.alloc(HID_REPORT_SIZE + 1);
      out[0] = 0x00; // report id: FIDO HID devices have none, hidraw wants the byte anyway
      out.set(report, 1);
      let written: number;
      try {
        written = handle.write(out);
      } catch (err) {
        const e = new HidTransportError('DEVICE_GONE', `${name} was unplugged (write failed)`, { cause: err });
        queue.fail(e);
        throw e;
      }
      if (written !== out.length) {
        const e = new HidTransportError('DEVICE_GONE', `${name}: short write (${written} of ${out.length} bytes)`);
        queue.fail(e);
        throw e;
      }
    },
    read: (timeoutMs) => queue.next(timeoutMs),
    async close() {
      if (closed) return;
      closed = true;
      queue.fail(new HidTransportError('CLOSED', `${name}: closed`));
      try {
        handle.close();
      } catch {
        // already gone
      }
    },
  };
}
