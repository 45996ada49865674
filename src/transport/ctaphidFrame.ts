/**
 * CTAPHID packet framing (CTAP 2.1 §11.2.4), shared by the host side (transport/ctaphid.ts) and
 * the virtual authenticator: a message is one initialization packet
 * `CID(4) ‖ CMD|0x80 ‖ BCNT(2, BE) ‖ data[57]` and continuation packets
 * `CID(4) ‖ SEQ(0..127) ‖ data[59]`, each zero-padded to the 64-byte report.
 */
import { HID_REPORT_SIZE } from './hid/connection.ts';

export const CTAPHID = {
  PING: 0x01,
  MSG: 0x03,
  LOCK: 0x04,
  INIT: 0x06,
  WINK: 0x08,
  CBOR: 0x10,
  CANCEL: 0x11,
  KEEPALIVE: 0x3b,
  ERROR: 0x3f,
} as const;

export const BROADCAST_CID = 0xffffffff;
export const INIT_DATA = HID_REPORT_SIZE - 7; // 57
export const CONT_DATA = HID_REPORT_SIZE - 5; // 59
export const MAX_MESSAGE = INIT_DATA + 128 * CONT_DATA; // 7609

export const KEEPALIVE_STATUS = { PROCESSING: 0x01, UPNEEDED: 0x02 } as const;

export const CAPABILITY = { WINK: 0x01, CBOR: 0x04, NMSG: 0x08 } as const;

/** CTAPHID_ERROR codes. */
export const HID_ERR = {
  INVALID_CMD: 0x01,
  INVALID_PAR: 0x02,
  INVALID_LEN: 0x03,
  INVALID_SEQ: 0x04,
  MSG_TIMEOUT: 0x05,
  CHANNEL_BUSY: 0x06,
  LOCK_REQUIRED: 0x0a,
  INVALID_CHANNEL: 0x0b,
  OTHER: 0x7f,
} as const;

/** Splits one message into reports. */
export function fragment(cid: number, cmd: number, data: Uint8Array): Uint8Array[] {
  if (data.length > MAX_MESSAGE) throw new RangeError(`CTAPHID message of ${data.length} bytes (max ${MAX_MESSAGE})`);
  const out: Uint8Array[] = [];
  const first = new Uint8Array(HID_REPORT_SIZE);
  const v = new DataView(first.buffer);
  v.setUint32(0, cid >>> 0);
  first[4] = 0x80 | cmd;
  v.setUint16(5, data.length);
  first.set(data.subarray(0, INIT_DATA), 7);
  out.push(first);
  let offset = INIT_DATA;
  for (let seq = 0; offset < data.length; seq++) {
    const p = new Uint8Array(HID_REPORT_SIZE);
    new DataView(p.buffer).setUint32(0, cid >>> 0);
    p[4] = seq;
    p.set(data.subarray(offset, offset + CONT_DATA), 5);
    out.push(p);
    offset += CONT_DATA;
  }
  return out;
}

export interface InitPacket {
  readonly kind: 'init';
  readonly cid: number;
  readonly cmd: number;
  readonly length: number;
  readonly data: Uint8Array;
}

export interface ContPacket {
  readonly kind: 'cont';
  readonly cid: number;
  readonly seq: number;
  readonly data: Uint8Array;
}

export function parsePacket(report: Uint8Array): InitPacket | ContPacket {
  if (report.length !== HID_REPORT_SIZE) throw new RangeError(`CTAPHID packet must be ${HID_REPORT_SIZE} bytes`);
  const v = new DataView(report.buffer, report.byteOffset, report.byteLength);
  const cid = v.getUint32(0);
  const b = report[4]!;
  if (b & 0x80) return { kind: 'init', cid, cmd: b & 0x7f, length: v.getUint16(5), data: report.subarray(7) };
  return { kind: 'cont', cid, seq: b, data: report.subarray(5) };
}

/**
 * Reassembles one message from its init packet and continuation packets. `add` returns the
 * message when complete; a wrong sequence number throws (`INVALID_SEQ`).
 */
export class Reassembly {
  private readonly buffer: Uint8Array;
  private filled: number;
  private nextSeq = 0;

  constructor(readonly init: InitPacket) {
    if (init.length > MAX_MESSAGE) throw new ReassemblyError(HID_ERR.INVALID_LEN, `message length ${init.length} exceeds ${MAX_MESSAGE}`);
    this.buffer = new Uint8Array(init.length);
    const n = Math.min(init.length, INIT_DATA);
    this.buffer.set(init.data.subarray(0, n));
    this.filled = n;
  }

  get complete(): boolean {
    return this.filled >= this.init.length;
  }

  get message(): Uint8Array {
    return this.buffer;
  }

  add(packet: ContPacket): boolean {
    if (packet.seq !== this.nextSeq) throw new ReassemblyError(HID_ERR.INVALID_SEQ, `continuation packet ${packet.seq}, expected ${this.nextSeq}`);
    this.nextSeq++;
    const n = Math.min(this.init.length - this.filled, CONT_DATA);
    this.buffer.set(packet.data.subarray(0, n), this.filled);
    this.filled += n;
    return this.complete;
  }
}

export class ReassemblyError extends Error {
  constructor(
    readonly hidError: number,
    message: string,
  ) {
    super(message);
    this.name = 'ReassemblyError';
  }
}
