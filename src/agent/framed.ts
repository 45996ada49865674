/**
 * One side of an agent connection, for both the client and the server: the socket's bytes split
 * into frames (protocol.ts; every chunk zeroed once read, as it may hold a sealed value), each
 * frame parsed by the other side's grammar and queued for `next`; messages out with `send`.
 * An unreadable frame is queued as its error; the socket closing is `null`.
 */
import type { Socket } from 'node:net';
import { encodeFrame, FrameReader, type AgentMessage, type ClientMessage } from './protocol.ts';

export class StreamTimeout extends Error {
  constructor(readonly ms: number) {
    super(`nothing arrived within ${ms} ms`);
    this.name = 'StreamTimeout';
  }
}

export class FramedStream<In> {
  private readonly frames = new FrameReader();
  private readonly queue: (In | Error | null)[] = [];
  /** Callers waiting, in order (a relayed message may still await its reply when the next request is read). */
  private readonly waiters: ((m: In | Error | null) => void)[] = [];
  private ended = false;

  constructor(
    readonly socket: Socket,
    parse: (x: unknown) => In,
  ) {
    socket.on('data', (d: Buffer) => {
      try {
        if (!this.ended) for (const m of this.frames.push(new Uint8Array(d))) this.deliver(parse(m));
      } catch (e) {
        // The stream cannot be trusted past an unreadable frame: its owner closes it.
        this.ended = true;
        this.deliver(e instanceof Error ? e : new Error(String(e)));
      } finally {
        d.fill(0);
      }
    });
    socket.on('close', () => {
      this.ended = true;
      this.frames.clear();
      this.deliver(null);
    });
  }

  private deliver(m: In | Error | null): void {
    const w = this.waiters.shift();
    if (w) w(m);
    else this.queue.push(m);
    // The end reaches every caller still waiting.
    if (m === null) for (const rest of this.waiters.splice(0)) rest(null);
  }

  /**
   * The next message; null once the socket has closed. Rejects with the error of an unreadable
   * frame, or with StreamTimeout when nothing arrives within `timeoutMs` (when given).
   */
  next(timeoutMs?: number): Promise<In | null> {
    const settle = (m: In | Error | null): In | null => {
      if (m instanceof Error) throw m;
      return m;
    };
    if (this.queue.length) return Promise.resolve().then(() => settle(this.queue.shift()!));
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const waiter = (m: In | Error | null) => {
        if (t) clearTimeout(t);
        try {
          resolve(settle(m));
        } catch (e) {
          reject(e);
        }
      };
      const t =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              const i = this.waiters.indexOf(waiter);
              if (i >= 0) this.waiters.splice(i, 1);
              reject(new StreamTimeout(timeoutMs));
            }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  send(m: ClientMessage | AgentMessage): void {
    if (!this.socket.destroyed) this.socket.write(encodeFrame(m));
  }

  /** Sends a last message and closes our side. */
  end(m: ClientMessage | AgentMessage): void {
    if (!this.socket.destroyed) this.socket.end(encodeFrame(m));
  }
}
