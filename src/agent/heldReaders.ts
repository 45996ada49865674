/**
 * PC/SC connections the agent keeps open between requests, so pcscd never powers the card down
 * and a PIN verified in one `age -d` is still verified in the next (PIN policy "once"; the card
 * forgets it only on reset, power-off or removal).
 *
 * `HeldReaders` decorates the reader system: within a request, `connect` reuses a held
 * connection to that reader, and a token session's `close(leaveCard = true)` keeps it open; a
 * `close(false)` (reset) really closes it. After the request the owner decides per reader:
 * `keep` it (a remembered device lives there) or `release` it. A removed card (a status event
 * from pcscd or a transmit that fails with CARD_REMOVED) drops its connection and is reported to
 * `onRemoved`, so the device's secrets are forgotten with it.
 */
import { TransportError } from '../transport/apdu.ts';
import type { CardReaders } from '../transport/readers.ts';
import type { ApduTransport } from '../transport/types.ts';

interface Held {
  transport: ApduTransport;
  /** Set when the card was removed or the connection closed. */
  dead: boolean;
}

export class HeldReaders implements CardReaders {
  private readonly held = new Map<string, Held>();
  /**
   * Disconnects in flight, per reader: pcsclite has one card handle per reader object, so a
   * connect issued before the previous disconnect finished would share the handle being closed.
   */
  private readonly closing = new Map<string, Promise<void>>();
  private readonly removedListeners: ((reader: string) => void)[] = [];
  /** Readers connected during the current request. */
  private touched = new Set<string>();
  private unwatch: (() => void) | undefined;
  private opened: CardReaders | undefined;

  /** `open` is called at first need, and again after it failed (pcscd not running yet). */
  constructor(
    private readonly open: () => Promise<CardReaders>,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  private async base(): Promise<CardReaders> {
    if (this.opened) return this.opened;
    const b = await this.open();
    if (this.opened) return this.opened;
    this.opened = b;
    this.unwatch = b.watch?.((ev) => {
      if (!ev.present) this.removed(ev.reader);
    });
    return b;
  }

  onRemoved(fn: (reader: string) => void): void {
    this.removedListeners.push(fn);
  }

  private disconnect(reader: string, h: Held, leaveCard: boolean): Promise<void> {
    const prev = this.closing.get(reader) ?? Promise.resolve();
    const p = prev.then(() => h.transport.close(leaveCard)).catch(() => undefined);
    this.closing.set(reader, p);
    void p.then(() => {
      if (this.closing.get(reader) === p) this.closing.delete(reader);
    });
    return p;
  }

  private removed(reader: string): void {
    const h = this.held.get(reader);
    if (h) {
      h.dead = true;
      this.held.delete(reader);
      void this.disconnect(reader, h, true);
    }
    for (const l of this.removedListeners) l(reader);
  }

  async list(): Promise<string[]> {
    return (await this.base()).list();
  }

  async connect(reader: string): Promise<ApduTransport> {
    this.touched.add(reader);
    let h = this.held.get(reader);
    let reused = true;
    if (!h || h.dead) {
      await this.closing.get(reader);
      h = this.held.get(reader);
      if (!h || h.dead) {
        h = { transport: await (await this.base()).connect(reader), dead: false };
        this.held.set(reader, h);
        reused = false;
      }
    }
    let entry = h;
    let first = true;
    return {
      transmit: async (command) => {
        if (entry.dead) throw new TransportError('CARD_REMOVED', `${reader}: the card was removed`);
        const wasFirst = first;
        first = false;
        try {
          return await entry.transport.transmit(command);
        } catch (e) {
          if (!(e instanceof TransportError && e.code === 'CARD_REMOVED')) throw e;
          if (this.held.get(reader) === entry) this.removed(reader);
          // A held connection whose card was reset or swapped since the last request (another
          // program reset it, or it was replugged before pcscd told us): the device's state is
          // gone (forgotten above); the request starts afresh on a new connection.
          if (!(reused && wasFirst)) throw e;
          this.log(`${reader}: the held connection was reset or replugged since the last request; reconnecting`);
          await this.closing.get(reader);
          entry = { transport: await (await this.base()).connect(reader), dead: false };
          this.held.set(reader, entry);
          return await entry.transport.transmit(command);
        }
      },
      close: async (leaveCard = true) => {
        if (leaveCard || entry.dead) return;
        await this.release(reader, true);
      },
    };
  }

  /**
   * The reader system as a family's device access sees it inside the agent: closing it (the end
   * of one run) keeps the held connections; only the agent closes the HeldReaders itself.
   */
  view(): CardReaders {
    return { list: () => this.list(), connect: (r) => this.connect(r), close: async () => undefined };
  }

  /** Starts a request: forgets which readers the previous one touched. */
  beginRequest(): void {
    this.touched = new Set();
  }

  /** The readers connected since `beginRequest`. */
  touchedReaders(): string[] {
    return [...this.touched];
  }

  heldReaders(): string[] {
    return [...this.held.keys()];
  }

  /** Closes the held connection to `reader`; `reset` makes the card forget its PIN state. */
  async release(reader: string, reset: boolean): Promise<void> {
    const h = this.held.get(reader);
    if (!h) return;
    this.held.delete(reader);
    h.dead = true;
    await this.disconnect(reader, h, !reset);
  }

  async releaseAll(reset: boolean): Promise<void> {
    for (const r of [...this.held.keys()]) await this.release(r, reset);
  }

  async close(): Promise<void> {
    this.unwatch?.();
    // Bounded: a stop never hangs on a card that does not answer.
    await Promise.race([this.releaseAll(true), new Promise((r) => setTimeout(r, 2000).unref())]);
    await this.opened?.close();
    this.opened = undefined;
  }
}
