/**
 * A virtual card's connection to pcscd's vpcd driver (vsmartcard): the card is a TCP client of the
 * reader; every message is a big-endian uint16 length and a payload. One-byte payloads are reader
 * controls (0 power off, 1 power on, 2 reset, 4 get ATR — also the 400 ms presence poll); longer
 * ones are command APDUs answered with exactly one response frame. Connecting inserts the card,
 * disconnecting removes it.
 */
import { connect, type Socket } from 'node:net';

export interface VirtualCard {
  atr: Uint8Array;
  /** Power off, power on or reset: volatile state (PIN verified, selected applet…) is cleared. */
  powerCycle(): void;
  process(apdu: Uint8Array): Promise<Uint8Array>;
}

export interface VpcdLinkOptions {
  host?: string;
  port: number;
  /** Retry connecting this long (pcscd may still be starting; a loaded machine is slow). Default 30 s. */
  connectTimeoutMs?: number;
  log?: (line: string) => void;
}

export class VpcdLink {
  private socket: Socket | null = null;
  private buf = Buffer.alloc(0);
  private queue: Promise<void> = Promise.resolve();
  apduCount = 0;
  /** Called when the reader side closes the connection unexpectedly. */
  onClose?: () => void;

  constructor(
    private readonly card: VirtualCard,
    private readonly opts: VpcdLinkOptions,
  ) {}

  get connected(): boolean {
    return this.socket !== null;
  }

  async connect(): Promise<void> {
    if (this.socket) return;
    const deadline = Date.now() + (this.opts.connectTimeoutMs ?? 30_000);
    for (;;) {
      try {
        this.socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect({ host: this.opts.host ?? '127.0.0.1', port: this.opts.port });
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        break;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`cannot reach pcscd's vpcd reader on port ${this.opts.port}: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const s = this.socket;
    s.setNoDelay(true);
    s.on('error', () => undefined);
    this.buf = Buffer.alloc(0);
    this.queue = Promise.resolve();
    s.on('data', (d) => {
      if (this.socket !== s) return;
      this.buf = Buffer.concat([this.buf, d]);
      this.drain(s);
    });
    s.on('close', () => {
      if (this.socket === s) {
        this.socket = null;
        this.card.powerCycle();
        this.onClose?.();
      }
    });
  }

  private drain(s: Socket): void {
    while (this.buf.length >= 2) {
      const len = this.buf.readUInt16BE(0);
      if (this.buf.length < 2 + len) return;
      const msg = new Uint8Array(this.buf.subarray(2, 2 + len));
      this.buf = this.buf.subarray(2 + len);
      // Handle messages strictly in order, one at a time.
      this.queue = this.queue.then(() => this.handle(s, msg)).catch((e) => this.opts.log?.(`vpcd: ${(e as Error).message}`));
    }
  }

  /** Handles one message from connection `s`; replies go to that same connection only. */
  private async handle(s: Socket, msg: Uint8Array): Promise<void> {
    if (this.socket !== s) return;
    if (msg.length === 1) {
      switch (msg[0]) {
        case 0x00:
        case 0x01:
        case 0x02:
          this.card.powerCycle();
          return;
        case 0x04:
          return this.send(s, this.card.atr);
        default:
          return;
      }
    }
    this.apduCount++;
    const resp = await this.card.process(msg);
    if (this.socket === s) this.send(s, resp);
  }

  private send(s: Socket, payload: Uint8Array): void {
    const frame = Buffer.alloc(2 + payload.length);
    frame.writeUInt16BE(payload.length, 0);
    frame.set(payload, 2);
    s.write(frame);
  }

  /** Removes the card (closes the connection). */
  async disconnect(): Promise<void> {
    const s = this.socket;
    if (!s) return;
    this.socket = null;
    this.card.powerCycle();
    await new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.destroy();
    });
  }
}
