/**
 * HID reports over TCP with the Pico FIDO emulator's framing (pico-keys-sdk
 * src/usb/emulation/emulation.c): every message, both ways, is a 2-byte big-endian length
 * followed by one 64-byte CTAPHID report. `KEYBRIDGE_FIDO2_TCP=HOST:PORT` points the plugins at
 * such an endpoint (the emulator, or `keybridge sim fido2`).
 */
import type { Socket } from 'node:net';
import { HID_REPORT_SIZE, HidTransportError, ReportQueue, type HidConnection, type HidDeviceInfo } from './connection.ts';

/** Frames one report for the wire. */
export function frameReport(report: Uint8Array): Buffer {
  if (report.length !== HID_REPORT_SIZE) throw new RangeError(`HID report must be ${HID_REPORT_SIZE} bytes, got ${report.length}`);
  const out = Buffer.alloc(2 + HID_REPORT_SIZE);
  out.writeUInt16BE(HID_REPORT_SIZE, 0);
  out.set(report, 2);
  return out;
}

/**
 * Splits a byte stream into reports. A frame longer than one report is a protocol error (the
 * emulator never sends one); shorter frames are zero-padded like a short HID read.
 */
export class ReportDeframer {
  private buffer: Buffer = Buffer.alloc(0);
  constructor(
    private readonly onReport: (report: Uint8Array) => void,
    private readonly onError: (message: string) => void,
  ) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 2) {
      const len = this.buffer.readUInt16BE(0);
      if (len === 0 || len > HID_REPORT_SIZE) {
        this.onError(`bad frame length ${len} (expected 1..${HID_REPORT_SIZE})`);
        this.buffer = Buffer.alloc(0);
        return;
      }
      if (this.buffer.length < 2 + len) return;
      const report = new Uint8Array(HID_REPORT_SIZE);
      report.set(this.buffer.subarray(2, 2 + len));
      this.buffer = this.buffer.subarray(2 + len);
      this.onReport(report);
    }
  }
}

/** A connection over an already connected socket (client side). */
export function socketConnection(socket: Socket, label: string): HidConnection {
  const queue = new ReportQueue();
  let closed = false;
  const deframer = new ReportDeframer(
    (r) => queue.push(r),
    (m) => {
      queue.fail(new HidTransportError('DEVICE_GONE', `${label}: ${m}`));
      socket.destroy();
    },
  );
  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => deframer.push(chunk));
  const gone = () => queue.fail(new HidTransportError(closed ? 'CLOSED' : 'DEVICE_GONE', closed ? `${label}: connection closed` : `${label}: the authenticator went away (connection closed)`));
  socket.on('close', gone);
  socket.on('error', () => gone());
  return {
    write(report) {
      if (queue.failed) return Promise.reject(queue.failed);
      return new Promise((resolve, reject) => {
        socket.write(frameReport(report), (err) => (err ? reject(new HidTransportError('DEVICE_GONE', `${label}: write failed: ${err.message}`, { cause: err })) : resolve()));
      });
    },
    read: (timeoutMs) => queue.next(timeoutMs),
    close() {
      closed = true;
      if (socket.destroyed) return Promise.resolve();
      return new Promise((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
        setTimeout(() => socket.destroy(), 200).unref();
      });
    },
  };
}

/** Parses `HOST:PORT` (IPv6 as `[::1]:PORT`). */
export function parseHostPort(spec: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(spec.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) throw new Error(`KEYBRIDGE_FIDO2_TCP must be HOST:PORT (e.g. 127.0.0.1:35962), got '${spec.slice(0, 80)}'`);
  return { host: (m[1] ?? m[2])!, port };
}

export function tcpDevice(host: string, port: number, connectTimeoutMs = 5000): HidDeviceInfo {
  const path = `tcp:${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    path,
    product: `FIDO2 key at ${host.includes(':') ? `[${host}]` : host}:${port}`,
    // node:net on first connection: a plugin that never reaches a key does not load it
    open: async () => {
      const { connect } = await import('node:net');
      return new Promise<HidConnection>((resolve, reject) => {
        const socket = connect({ host, port });
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new HidTransportError('OPEN_FAILED', `no FIDO2 authenticator answers at ${host}:${port} (timed out)`));
        }, connectTimeoutMs);
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.removeAllListeners('error');
          resolve(socketConnection(socket, path));
        });
        socket.once('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          reject(new HidTransportError('OPEN_FAILED', `no FIDO2 authenticator at ${host}:${port} (${err.code ?? err.message})`, { cause: err }));
        });
      });
    },
  };
}
