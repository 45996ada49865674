/**
 * PC/SC through the `pcsclite` addon (pcsc-lite's pcscd on Linux): the `CardReaders` system and
 * an `ApduTransport` per connected card. Connections are always shared (never exclusive), T=1
 * preferred, with a 64 KiB receive buffer, and are closed leaving the card powered unless a reset
 * is asked for. The addon is loaded only when a card is actually needed.
 */
import { TransportError } from './apdu.ts';
import type { CardReaders } from './readers.ts';
import type { ApduTransport } from './types.ts';

interface PcscReader {
  name: string;
  state?: number;
  connected?: boolean;
  SCARD_SHARE_SHARED: number;
  SCARD_PROTOCOL_T0: number;
  SCARD_PROTOCOL_T1: number;
  SCARD_LEAVE_CARD: number;
  SCARD_RESET_CARD: number;
  SCARD_STATE_PRESENT: number;
  SCARD_STATE_MUTE: number;
  on(ev: string, fn: (...a: never[]) => void): void;
  connect(opts: { share_mode: number; protocol?: number }, cb: (err: Error | null, protocol?: number) => void): void;
  disconnect(disposition: number, cb: (err: Error | null) => void): void;
  transmit(data: Buffer, resLen: number, protocol: number, cb: (err: Error | null, data?: Buffer) => void): void;
  close(): void;
}

interface PcscContext {
  on(ev: string, fn: (...a: never[]) => void): void;
  close(): void;
}

const RECEIVE_BUFFER = 65538;

/** pcsc-lite error codes that mean something to the user. */
const SHARING_VIOLATION = /0x8010000B/i;
const CARD_GONE = /0x80100069|0x8010000C|0x80100017|0x80100066|0x80100068|0x80100009/i;

function classify(e: Error, what: string, reader: string): TransportError {
  if (SHARING_VIOLATION.test(e.message)) return new TransportError('READER_BUSY', `${reader}: the card is in use by another program`, { cause: e });
  if (CARD_GONE.test(e.message)) return new TransportError('CARD_REMOVED', `${reader}: the card was removed`, { cause: e });
  return new TransportError('PCSC', `${what} on ${reader} failed: ${e.message}`, { cause: e });
}

export interface PcscOptions {
  /** How long to wait for a busy card (held by scdaemon, say) before reporting it. Default 1500 ms. */
  busyRetryMs?: number;
}

export async function openPcsc(opts: PcscOptions = {}): Promise<CardReaders> {
  let factory: () => PcscContext;
  try {
    // An import the bundles resolve to pcsclite's own code with its addon loaded by path
    // (scripts/build.mjs: pcscliteByPath); from source, the package itself.
    const mod = (await import('pcsclite')) as unknown as { default?: () => PcscContext };
    factory = mod.default ?? (mod as unknown as () => PcscContext);
  } catch (cause) {
    throw new TransportError('PCSC_UNAVAILABLE', 'The pcsclite module could not be loaded (was it built? run `npm rebuild pcsclite`)', { cause });
  }
  let ctx: PcscContext;
  try {
    ctx = factory();
  } catch (cause) {
    throw new TransportError('PCSC_UNAVAILABLE', 'pcscd is not running', { cause });
  }
  const readers = new Map<string, PcscReader>();
  const statusSeen = new Set<string>();
  const watchers = new Set<(event: { reader: string; present: boolean }) => void>();
  const isPresent = (r: PcscReader, state: number | undefined) => state !== undefined && (state & r.SCARD_STATE_PRESENT) !== 0 && (state & r.SCARD_STATE_MUTE) === 0;
  let lastEvent = Date.now();
  let contextError: Error | undefined;
  ctx.on('error', ((e: Error) => {
    contextError = e;
  }) as never);
  ctx.on('reader', ((r: PcscReader) => {
    readers.set(r.name, r);
    lastEvent = Date.now();
    r.on('status', ((s: { state: number }) => {
      const was = isPresent(r, r.state);
      r.state = s.state;
      const now = isPresent(r, s.state);
      if (was !== now) for (const w of watchers) w({ reader: r.name, present: now });
      statusSeen.add(r.name);
      lastEvent = Date.now();
    }) as never);
    r.on('end', (() => {
      if (isPresent(r, r.state)) for (const w of watchers) w({ reader: r.name, present: false });
      readers.delete(r.name);
      statusSeen.delete(r.name);
    }) as never);
    r.on('error', (() => undefined) as never);
  }) as never);

  const started = Date.now();
  const settle = async () => {
    // Readers are announced asynchronously; wait until they and their first status have arrived.
    for (;;) {
      const now = Date.now();
      const allStatus = [...readers.keys()].every((n) => statusSeen.has(n));
      // On a loaded machine the first reader can take well over 60 ms to be announced: with no
      // reader yet, keep listening (bounded), rather than report an empty reader system.
      const settledFor = readers.size > 0 ? 60 : 1500;
      if (allStatus && now - lastEvent >= 40 && now - started >= settledFor) return;
      if (now - started > 10_000) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  let closed = false;
  return {
    async list() {
      await settle();
      if (contextError && readers.size === 0 && /0x8010001D|0x8010002E/i.test(contextError.message)) {
        throw new TransportError('PCSC_UNAVAILABLE', 'pcscd is not running', { cause: contextError });
      }
      return [...readers.values()].filter((r) => isPresent(r, r.state)).map((r) => r.name);
    },

    watch(listener) {
      watchers.add(listener);
      return () => void watchers.delete(listener);
    },

    async connect(name) {
      await settle();
      const r = readers.get(name);
      if (!r) throw new TransportError('CARD_REMOVED', `${name}: no such reader`);
      const deadline = Date.now() + (opts.busyRetryMs ?? 1500);
      let protocol: number;
      for (;;) {
        try {
          protocol = await new Promise<number>((resolve, reject) =>
            r.connect({ share_mode: r.SCARD_SHARE_SHARED, protocol: r.SCARD_PROTOCOL_T1 | r.SCARD_PROTOCOL_T0 }, (err, p) => (err ? reject(err) : resolve(p ?? r.SCARD_PROTOCOL_T1))),
          );
          break;
        } catch (e) {
          const t = classify(e as Error, 'connect', name);
          if (t.code === 'READER_BUSY' && Date.now() < deadline) {
            await new Promise((res) => setTimeout(res, 100));
            continue;
          }
          throw t;
        }
      }
      let open = true;
      const transport: ApduTransport = {
        transmit(command) {
          return new Promise((resolve, reject) => {
            if (!open) return reject(new TransportError('CLOSED', `${name}: connection closed`));
            r.transmit(Buffer.from(command), RECEIVE_BUFFER, protocol, (err, data) => {
              if (err) return reject(classify(err, 'transmit', name));
              resolve(new Uint8Array(data!));
            });
          });
        },
        close(leaveCard = true) {
          if (!open) return Promise.resolve();
          open = false;
          return new Promise((resolve) => r.disconnect(leaveCard ? r.SCARD_LEAVE_CARD : r.SCARD_RESET_CARD, () => resolve()));
        },
      };
      return transport;
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const r of readers.values()) {
        try {
          r.close();
        } catch {
          /* already closed */
        }
      }
      try {
        ctx.close();
      } catch {
        /* already closed */
      }
    },
  };
}
