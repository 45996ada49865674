/**
 * The APDU protocol layer over a raw `ApduTransport` (yubikit's SmartCardProtocol): an APDU
 * formatter chosen per connection, response chaining (SW 61xx → GET RESPONSE), and status words
 * turned into `StatusWordError`s.
 *
 *   short     `CLA INS P1 P2 [Lc data]`, command chaining (CLA bit 0x10) in 255-byte chunks
 *   extended  `CLA INS P1 P2 [00 Lc1 Lc2 data] Le1 Le2` (or `00 Le1 Le2` without data), up to
 *             65535 data bytes in one APDU, Le 0000 = up to 65536 bytes back (ISO 7816-4 §5.1);
 *             longer data is still chained
 *
 * Short is the default (what every card understands); a session switches a connection to
 * extended when its applet needs it (the SmartCard-HSM for 65-byte ECDH points and key
 * generation responses) with `setFormat('extended')`.
 */
import type { ApduTransport } from './types.ts';

export const SW_OK = 0x9000;

export class StatusWordError extends Error {
  readonly sw: number;
  constructor(sw: number, what: string) {
    super(`${what} failed with status ${sw.toString(16).toUpperCase().padStart(4, '0')}`);
    this.name = 'StatusWordError';
    this.sw = sw;
  }
}

/** The transport failed (reader gone, card removed, PC/SC error) — not a status word. */
export class TransportError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportError';
    this.code = code;
  }
}

export interface Response {
  data: Uint8Array;
  sw: number;
}

const GET_RESPONSE = 0xc0;
const SHORT_CHUNK = 255;
const EXTENDED_CHUNK = 65535;

export type ApduFormat = 'short' | 'extended';

/** Encodes one command APDU (no chaining) in the given format. */
export function encodeApdu(format: ApduFormat, cla: number, ins: number, p1: number, p2: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (format === 'short') {
    if (data.length > SHORT_CHUNK) throw new RangeError('short APDU data longer than 255 bytes');
    const cmd = new Uint8Array(4 + (data.length ? 1 + data.length : 0));
    cmd.set([cla, ins, p1, p2]);
    if (data.length) {
      cmd[4] = data.length;
      cmd.set(data, 5);
    }
    return cmd;
  }
  if (data.length > EXTENDED_CHUNK) throw new RangeError('extended APDU data longer than 65535 bytes');
  // Case 2E (no data): header ‖ 00 ‖ Le(2); case 4E: header ‖ 00 ‖ Lc(2) ‖ data ‖ Le(2). Le 0000 = 65536.
  const cmd = new Uint8Array(4 + (data.length ? 3 + data.length + 2 : 3));
  cmd.set([cla, ins, p1, p2, 0x00]);
  if (data.length) {
    cmd[5] = data.length >> 8;
    cmd[6] = data.length & 0xff;
    cmd.set(data, 7);
  }
  return cmd;
}

export class ApduProtocol {
  /** Number of command APDUs sent, including chained parts and GET RESPONSEs. */
  apduCount = 0;
  private fmt: ApduFormat;

  constructor(
    readonly transport: ApduTransport,
    opts: { format?: ApduFormat } = {},
  ) {
    this.fmt = opts.format ?? 'short';
  }

  /** The APDU format this connection uses. */
  get format(): ApduFormat {
    return this.fmt;
  }

  /** Chooses the APDU format for the rest of this connection. */
  setFormat(format: ApduFormat): void {
    this.fmt = format;
  }

  private async transmitOne(cla: number, ins: number, p1: number, p2: number, data: Uint8Array): Promise<Response> {
    const cmd = encodeApdu(this.fmt, cla, ins, p1, p2, data);
    this.apduCount++;
    const resp = await this.transport.transmit(cmd);
    if (resp.length < 2) throw new TransportError('BAD_RESPONSE', 'The card sent a response shorter than a status word');
    return { data: resp.subarray(0, resp.length - 2), sw: (resp[resp.length - 2]! << 8) | resp[resp.length - 1]! };
  }

  /** Sends a command and returns data and final status word (no exception for non-9000). */
  async sendRaw(cla: number, ins: number, p1: number, p2: number, data: Uint8Array = new Uint8Array(0)): Promise<Response> {
    const chunk = this.fmt === 'short' ? SHORT_CHUNK : EXTENDED_CHUNK;
    let offset = 0;
    while (data.length - offset > chunk) {
      const part = await this.transmitOne(cla | 0x10, ins, p1, p2, data.subarray(offset, offset + chunk));
      if (part.sw !== SW_OK) return part;
      offset += chunk;
    }
    let r = await this.transmitOne(cla, ins, p1, p2, data.subarray(offset));
    const chunks: Uint8Array[] = [];
    while ((r.sw & 0xff00) === 0x6100) {
      chunks.push(r.data);
      r = await this.transmitOne(0x00, GET_RESPONSE, 0x00, 0x00, new Uint8Array(0));
    }
    if (chunks.length === 0) return r;
    chunks.push(r.data);
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of chunks) {
      out.set(c, o);
      o += c.length;
    }
    return { data: out, sw: r.sw };
  }

  /** Sends a command; any status other than 9000 throws `StatusWordError`. */
  async send(what: string, cla: number, ins: number, p1: number, p2: number, data?: Uint8Array): Promise<Uint8Array> {
    const r = await this.sendRaw(cla, ins, p1, p2, data);
    if (r.sw !== SW_OK) throw new StatusWordError(r.sw, what);
    return r.data;
  }
}
