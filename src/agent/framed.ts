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
  private waiter: ((m: In | Error | null) => void) | undefined;
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
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(m);
    } else this.queue.push(m);
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
      const t =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.waiter = undefined;
              reject(new StreamTimeout(timeoutMs));
            }, timeoutMs);
      this.waiter = (m) => {
        if (t) clearTimeout(t);
        try {
          resolve(settle(m));
        } catch (e) {
          reject(e);
        }
      };
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
