/**
 * Card-side APDU handling for virtual cards: parsing command APDUs (short and extended length,
 * ISO 7816-4 cases 1–4), command chaining (CLA bit 0x10), and response chaining (61xx + GET
 * RESPONSE) for short-APDU clients. Shared by every virtual card; independent of tokens/.
 */
import { ISO_SW } from '../transport/iso7816.ts';

export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data: Uint8Array;
  /** Expected response length; 0 means "as much as available". */
  le: number;
  extended: boolean;
}

export class SwError extends Error {
  constructor(readonly sw: number) {
    super(`SW ${sw.toString(16)}`);
  }
}

/** The status words a virtual card answers (ISO 7816-4). */
export const SW = ISO_SW;

/** Parses a command APDU; throws SwError(6700) when the length fields are inconsistent. */
export function parseCommand(b: Uint8Array): CommandApdu {
  if (b.length < 4) throw new SwError(SW.WRONG_LENGTH);
  const [cla, ins, p1, p2] = [b[0]!, b[1]!, b[2]!, b[3]!];
  const base = { cla, ins, p1, p2 };
  if (b.length === 4) return { ...base, data: new Uint8Array(0), le: 0, extended: false };
  if (b.length === 5) return { ...base, data: new Uint8Array(0), le: b[4]! === 0 ? 256 : b[4]!, extended: false };
  if (b[4] !== 0) {
    const lc = b[4]!;
    if (b.length === 5 + lc) return { ...base, data: b.subarray(5, 5 + lc), le: 0, extended: false };
    if (b.length === 6 + lc) return { ...base, data: b.subarray(5, 5 + lc), le: b[5 + lc]! === 0 ? 256 : b[5 + lc]!, extended: false };
    throw new SwError(SW.WRONG_LENGTH);
  }
  // Extended length: 00 followed by two length bytes.
  if (b.length === 7) {
    const le = (b[5]! << 8) | b[6]!;
    return { ...base, data: new Uint8Array(0), le: le === 0 ? 65536 : le, extended: true };
  }
  if (b.length < 7) throw new SwError(SW.WRONG_LENGTH);
  const lc = (b[5]! << 8) | b[6]!;
  if (lc === 0) throw new SwError(SW.WRONG_LENGTH);
  if (b.length === 7 + lc) return { ...base, data: b.subarray(7, 7 + lc), le: 0, extended: true };
  if (b.length === 9 + lc) {
    const le = (b[7 + lc]! << 8) | b[8 + lc]!;
    return { ...base, data: b.subarray(7, 7 + lc), le: le === 0 ? 65536 : le, extended: true };
  }
  throw new SwError(SW.WRONG_LENGTH);
}

export function response(data: Uint8Array, sw: number): Uint8Array {
  const out = new Uint8Array(data.length + 2);
  out.set(data);
  out[data.length] = sw >> 8;
  out[data.length + 1] = sw & 0xff;
  return out;
}

export type ApduHandler = (cmd: CommandApdu) => Promise<Uint8Array> | Uint8Array;

/**
 * Wraps an application handler with chaining: collects CLA-0x10 command chains, and splits
 * responses longer than 256 bytes for short-APDU commands into 61xx / GET RESPONSE parts.
 */
export class ChainingProcessor {
  private chain: { ins: number; p1: number; p2: number; parts: Uint8Array[] } | null = null;
  private pending: Uint8Array | null = null;

  constructor(private readonly handler: ApduHandler) {}

  reset(): void {
    this.chain = null;
    this.pending = null;
  }

  async process(raw: Uint8Array): Promise<Uint8Array> {
    let cmd: CommandApdu;
    try {
      cmd = parseCommand(raw);
    } catch (e) {
      return response(new Uint8Array(0), e instanceof SwError ? e.sw : SW.WRONG_LENGTH);
    }
    if (cmd.ins === 0xc0 && (cmd.cla & 0xef) === 0x00) {
      if (!this.pending) return response(new Uint8Array(0), SW.CONDITIONS);
      return this.emit(this.pending, cmd);
    }
    this.pending = null;
    if (cmd.cla & 0x10) {
      if (this.chain && (this.chain.ins !== cmd.ins || this.chain.p1 !== cmd.p1 || this.chain.p2 !== cmd.p2)) this.chain = null;
      this.chain ??= { ins: cmd.ins, p1: cmd.p1, p2: cmd.p2, parts: [] };
      this.chain.parts.push(cmd.data.slice());
      return response(new Uint8Array(0), SW.OK);
    }
    if (this.chain) {
      if (this.chain.ins === cmd.ins && this.chain.p1 === cmd.p1 && this.chain.p2 === cmd.p2) {
        const parts = [...this.chain.parts, cmd.data];
        const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let o = 0;
        for (const p of parts) {
          all.set(p, o);
          o += p.length;
        }
        cmd = { ...cmd, data: all };
      }
      this.chain = null;
    }
    let out: Uint8Array;
    try {
      out = await this.handler(cmd);
    } catch (e) {
      if (e instanceof SwError) return response(new Uint8Array(0), e.sw);
      throw e;
    }
    const data = out.subarray(0, out.length - 2);
    const sw = (out[out.length - 2]! << 8) | out[out.length - 1]!;
    if (sw !== SW.OK || cmd.extended || data.length <= 256) return out;
    return this.emit(data, cmd);
  }

  private emit(data: Uint8Array, cmd: CommandApdu): Uint8Array {
    const max = cmd.extended ? 65536 : cmd.le > 0 ? cmd.le : 256;
    if (data.length <= max) {
      this.pending = null;
      return response(data, SW.OK);
    }
    this.pending = data.slice(max);
    const left = this.pending.length;
    return response(data.subarray(0, max), 0x6100 | (left > 255 ? 0 : left));
  }
}
