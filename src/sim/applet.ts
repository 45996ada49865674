/**
 * What a virtual applet is built on: the card's persisted state (`s`, written with `save()` after
 * each change) and the events it raises to the card (a touch, a button press). What it holds
 * volatile (selection, verified PINs) is its own, cleared on a power cycle.
 */
import type { JsonStateStore } from './stateFile.ts';

export abstract class StoredApplet<S, E> {
  constructor(
    protected readonly store: JsonStateStore<S>,
    protected readonly events: E,
  ) {}

  protected get s(): S {
    return this.store.state;
  }

  protected readonly save = (): Promise<void> => this.store.save();
}
