/**
 * The host side of CTAPHID (CTAP 2.1 §11.2) over any `HidConnection`: channel allocation with
 * INIT on the broadcast channel, message fragmentation, KEEPALIVE handling (the "user presence
 * needed" status is reported once per call), CANCEL, CTAPHID_ERROR codes, CHANNEL_BUSY retried,
 * bounded waits, and a device that disappears mid-call reported as its own error.
 */
import { randomBytes } from 'node:crypto';
import { HidTransportError, type HidConnection, type HidDeviceInfo } from './hid/connection.ts';
import { BROADCAST_CID, CTAPHID, HID_ERR, KEEPALIVE_STATUS, Reassembly, ReassemblyError, fragment, parsePacket } from './ctaphidFrame.ts';
import { CtapHidError } from './ctaphidError.ts';

export { CtapHidError, type CtapHidErrorCode } from './ctaphidError.ts';

const HID_ERROR_NAMES: Record<number, string> = {
  [HID_ERR.INVALID_CMD]: 'invalid command',
  [HID_ERR.INVALID_PAR]: 'invalid parameter',
  [HID_ERR.INVALID_LEN]: 'invalid length',
  [HID_ERR.INVALID_SEQ]: 'invalid sequence',
  [HID_ERR.MSG_TIMEOUT]: 'message timeout',
  [HID_ERR.CHANNEL_BUSY]: 'channel busy',
  [HID_ERR.LOCK_REQUIRED]: 'lock required',
  [HID_ERR.INVALID_CHANNEL]: 'invalid channel',
  [HID_ERR.OTHER]: 'other error',
};

export interface CallOptions {
  /** Called once per call when the device reports that it waits for a touch. */
  readonly onUserPresenceNeeded?: () => void;
  /** Aborting sends CTAPHID_CANCEL; the call then ends with the device's answer or CANCELLED. */
  readonly signal?: AbortSignal;
  /** Longest silence between two packets (keepalives count), default 3000 ms. */
  readonly idleTimeoutMs?: number;
  /** Longest whole call, default 120 s (authenticators give up on a touch after ~30 s), counted from when the device takes the request. */
  readonly totalTimeoutMs?: number;
  /** How long a device busy with another channel's request is waited for (CHANNEL_BUSY), default the device's (30 s). */
  readonly busyLimitMs?: number;
}

export interface InitInfo {
  readonly cid: number;
  readonly protocolVersion: number;
  readonly deviceVersion: readonly [number, number, number];
  readonly capabilities: number;
}

const BUSY_RETRY_MS = 100;
/**
 * A device answers CHANNEL_BUSY while another channel's request runs, and one waiting for a touch
 * runs until the user touches or the authenticator gives up (~30 s): a program that died in the
 * middle of it (a killed agent) leaves the key busy for that long, so it is waited for that long.
 */
const BUSY_LIMIT_MS = 30_000;
const CANCEL_GRACE_MS = 1500;

export class CtapHidDevice {
  private queue: Promise<unknown> = Promise.resolve();
  private cancelling: Promise<void> = Promise.resolve();
  private cid = BROADCAST_CID;
  private initInfo?: InitInfo;

  private constructor(
    readonly info: HidDeviceInfo,
    private readonly connection: HidConnection,
    private readonly busyLimitMs: number,
  ) {}

  /** Opens the device and allocates a channel; `busyLimitMs` is the default of its calls. */
  static async open(info: HidDeviceInfo, options: { idleTimeoutMs?: number; busyLimitMs?: number } = {}): Promise<CtapHidDevice> {
    let connection: HidConnection;
    try {
      connection = await info.open();
    } catch (err) {
      throw wrapTransport(err);
    }
    return CtapHidDevice.attach(info, connection, options);
  }

  /** Allocates a channel on a connection already opened to `info` (closed when that fails). */
  static async attach(info: HidDeviceInfo, connection: HidConnection, options: { idleTimeoutMs?: number; busyLimitMs?: number } = {}): Promise<CtapHidDevice> {
    const device = new CtapHidDevice(info, connection, options.busyLimitMs ?? BUSY_LIMIT_MS);
    try {
      await device.init(options.idleTimeoutMs);
    } catch (err) {
      await connection.close().catch(() => undefined);
      throw err;
    }
    return device;
  }

  get channel(): InitInfo {
    if (!this.initInfo) throw new Error('CtapHidDevice: not initialised');
    return this.initInfo;
  }

  get supportsCbor(): boolean {
    return (this.channel.capabilities & 0x04) !== 0;
  }

  private async init(idleTimeoutMs = 3000): Promise<void> {
    const nonce = new Uint8Array(randomBytes(8));
    this.cid = BROADCAST_CID;
    const r = await this.call(CTAPHID.INIT, nonce, { idleTimeoutMs, totalTimeoutMs: idleTimeoutMs * 2 }, nonce);
    if (r.length < 17) throw new CtapHidError('PROTOCOL', `INIT answer of ${r.length} bytes (expected 17)`);
    const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
    this.cid = v.getUint32(8);
    if (this.cid === BROADCAST_CID || this.cid === 0) throw new CtapHidError('PROTOCOL', 'INIT allocated an invalid channel');
    this.initInfo = { cid: this.cid, protocolVersion: r[12]!, deviceVersion: [r[13]!, r[14]!, r[15]!], capabilities: r[16]! };
  }

  ping(data: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    return this.call(CTAPHID.PING, data, options);
  }

  /** One CTAP2 command: `cmd ‖ payload` out, `status ‖ CBOR` back. */
  cbor(command: number, payload: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    const msg = new Uint8Array(1 + payload.length);
    msg[0] = command;
    msg.set(payload, 1);
    return this.call(CTAPHID.CBOR, msg, options);
  }

  /** Sends CTAPHID_CANCEL on this channel (no answer of its own). */
  cancel(): Promise<void> {
    const [packet] = fragment(this.cid, CTAPHID.CANCEL, new Uint8Array(0));
    const sent = this.connection.write(packet!).catch(() => undefined);
    this.cancelling = this.cancelling.then(() => sent);
    return sent;
  }

  /** Closes the connection, after any CANCEL being sent has reached it. */
  async close(): Promise<void> {
    await this.cancelling;
    await this.connection.close().catch(() => undefined);
  }

  /** Serialised: one message in flight per channel. */
  call(cmd: number, data: Uint8Array, options: CallOptions = {}, initNonce?: Uint8Array): Promise<Uint8Array> {
    const run = this.queue.then(() => this.transact(cmd, data, options, initNonce));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async transact(cmd: number, data: Uint8Array, options: CallOptions, initNonce?: Uint8Array): Promise<Uint8Array> {
    const idle = options.idleTimeoutMs ?? 3000;
    const total = options.totalTimeoutMs ?? 120_000;
    let deadline = Date.now() + total;
    const busyUntil = Date.now() + (options.busyLimitMs ?? this.busyLimitMs);
    let upNotified = false;
    let cancelSent = false;
    const signal = options.signal;
    if (signal?.aborted) throw new CtapHidError('CANCELLED', 'cancelled before the request was sent');
    const sendCancel = () => {
      if (cancelSent) return;
      cancelSent = true;
      void this.cancel();
    };
    signal?.addEventListener('abort', sendCancel, { once: true });
    try {
      for (;;) {
        for (const p of fragment(this.cid, cmd, data)) await this.write(p);
        let assembly: Reassembly | undefined;
        for (;;) {
          const now = Date.now();
          const cancelDeadline = cancelSent ? now + CANCEL_GRACE_MS : Infinity;
          const wait = Math.min(idle, deadline - now, cancelDeadline - now);
          if (wait <= 0) throw new CtapHidError('TIMEOUT', `the FIDO2 device did not finish within ${options.totalTimeoutMs ?? 120_000} ms`);
          let report: Uint8Array;
          try {
            report = await this.connection.read(wait);
          } catch (err) {
            if (cancelSent && err instanceof HidTransportError && err.code === 'TIMEOUT') throw new CtapHidError('CANCELLED', 'the request was cancelled');
            throw wrapTransport(err);
          }
          const p = parsePacket(report);
          if (p.cid !== this.cid) continue; // another host's channel on a shared device
          if (p.kind === 'cont') {
            if (!assembly) continue; // stray continuation of an abandoned message
            try {
              if (assembly.add(p)) return assembly.message.slice();
            } catch (err) {
              if (err instanceof ReassemblyError) throw new CtapHidError('PROTOCOL', err.message);
              throw err;
            }
            continue;
          }
          if (p.cmd === CTAPHID.KEEPALIVE) {
            if (p.data[0] === KEEPALIVE_STATUS.UPNEEDED && !upNotified) {
              upNotified = true;
              options.onUserPresenceNeeded?.();
            }
            continue;
          }
          if (p.cmd === CTAPHID.ERROR) {
            const code = p.data[0]!;
            if (code === HID_ERR.CHANNEL_BUSY) {
              if (Date.now() >= busyUntil) throw new CtapHidError('BUSY', 'the FIDO2 device is busy with another program; close it and try again', code);
              await sleep(BUSY_RETRY_MS);
              deadline = Date.now() + total; // the call starts when the device takes it
              break; // resend
            }
            throw new CtapHidError('HID_ERROR', `the FIDO2 device refused the message (CTAPHID ${HID_ERROR_NAMES[code] ?? `error 0x${code.toString(16)}`})`, code);
          }
          if (p.cmd !== cmd) throw new CtapHidError('PROTOCOL', `unexpected CTAPHID answer 0x${p.cmd.toString(16)} to 0x${cmd.toString(16)}`);
          if (cmd === CTAPHID.INIT && initNonce && !equalBytes(p.data.subarray(0, 8), initNonce)) continue; // another host's INIT
          try {
            assembly = new Reassembly(p);
          } catch (err) {
            if (err instanceof ReassemblyError) throw new CtapHidError('PROTOCOL', err.message);
            throw err;
          }
          if (assembly.complete) return assembly.message.slice();
        }
      }
    } finally {
      signal?.removeEventListener('abort', sendCancel);
    }
  }

  private async write(packet: Uint8Array): Promise<void> {
    try {
      await this.connection.write(packet);
    } catch (err) {
      throw wrapTransport(err);
    }
  }
}

function wrapTransport(err: unknown): unknown {
  if (err instanceof HidTransportError) {
    const code = err.code === 'CLOSED' ? 'DEVICE_GONE' : err.code;
    return new CtapHidError(code, err.message, undefined, { cause: err });
  }
  return err;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
