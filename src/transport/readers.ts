/**
 * The smart-card reader system as token code sees it: which readers hold a card, and a
 * transport to one of them. PC/SC (pcsclite) implements it in production; anything that can move
 * APDUs (the virtual cards' in-process transport) can stand in.
 */
import type { ApduTransport } from './types.ts';

export interface CardReaders {
  /** Names of the readers that currently hold a card. Throws `TransportError` code PCSC_UNAVAILABLE when the service is not running. */
  list(): Promise<string[]>;
  /** Connects in shared mode. Throws `TransportError` code READER_BUSY when another program holds the card exclusively. */
  connect(reader: string): Promise<ApduTransport>;
  /** Releases the reader system (open transports should be closed first). */
  close(): Promise<void>;
  /**
   * Reports cards arriving in and leaving readers as the reader system notices them (a long-lived
   * holder of connections, the agent, uses it to forget a removed card). Returns an unsubscribe.
   */
  watch?(listener: (event: { reader: string; present: boolean }) => void): () => void;
}

/**
 * Opens the reader system only when first used, so work that needs no card (no matching stanza,
 * recipients only) never starts PC/SC.
 */
export function lazyReaders(open: () => Promise<CardReaders>): CardReaders {
  let opened: Promise<CardReaders> | undefined;
  const get = () => (opened ??= open());
  return {
    list: async () => (await get()).list(),
    connect: async (reader) => (await get()).connect(reader),
    close: async () => {
      if (opened) await (await opened.catch(() => null))?.close();
    },
  };
}
