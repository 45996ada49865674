/**
 * Virtual cards without pcscd: a `CardReaders` whose readers hold virtual cards in the same
 * process, for unit tests and benchmarks of token code. Pulling a card out makes its open
 * transports fail with CARD_REMOVED, as PC/SC does.
 */
import { TransportError } from '../transport/apdu.ts';
import type { CardReaders } from '../transport/readers.ts';
import type { ApduTransport } from '../transport/types.ts';
import type { VirtualCard } from './vpcd.ts';

export interface InProcessReaders extends CardReaders {
  /** Puts `card` into reader `name` (powered on, as on insertion). */
  insert(name: string, card: VirtualCard): void;
  /** Pulls the card out of reader `name`. */
  remove(name: string): void;
  /** Command APDUs sent through this reader system. */
  readonly apduCount: number;
}

export function inProcessReaders(cards: Record<string, VirtualCard> = {}): InProcessReaders {
  const slots = new Map<string, { card: VirtualCard; generation: number }>();
  let generation = 0;
  let apdus = 0;
  const insert = (name: string, card: VirtualCard) => {
    card.powerCycle();
    slots.set(name, { card, generation: ++generation });
  };
  for (const [name, card] of Object.entries(cards)) insert(name, card);
  return {
    insert,
    remove(name) {
      const s = slots.get(name);
      if (s) s.card.powerCycle();
      slots.delete(name);
    },
    get apduCount() {
      return apdus;
    },
    async list() {
      return [...slots.keys()];
    },
    async connect(name) {
      const slot = slots.get(name);
      if (!slot) throw new TransportError('CARD_REMOVED', `${name}: no card`);
      const mine = slot.generation;
      let open = true;
      const transport: ApduTransport = {
        async transmit(command) {
          const now = slots.get(name);
          if (!open) throw new TransportError('CLOSED', `${name}: connection closed`);
          if (!now || now.generation !== mine) throw new TransportError('CARD_REMOVED', `${name}: the card was removed`);
          apdus++;
          return now.card.process(command);
        },
        async close(leaveCard = true) {
          open = false;
          if (!leaveCard) slots.get(name)?.card.powerCycle();
        },
      };
      return transport;
    },
    async close() {},
  };
}
