/**
 * What every virtual card plugged into pcscd's vpcd reader shares: the vpcd link (insert,
 * remove, APDU count), command/response chaining in front of the card's own dispatcher, and the
 * user-presence behaviour of a touch sensor or button (approve, refuse, or let it time out).
 */
import { ChainingProcessor, type CommandApdu } from './apdu.ts';
import { VpcdLink, type VirtualCard } from './vpcd.ts';

export type PresenceBehaviour = 'approve' | 'deny' | { timeoutMs: number };
export type PresenceOutcome = 'approve' | 'deny' | 'timeout';

/** Waits as the behaviour says and returns what the user did. */
export async function userPresence(b: PresenceBehaviour): Promise<PresenceOutcome> {
  if (b === 'approve' || b === 'deny') return b;
  await new Promise((r) => setTimeout(r, b.timeoutMs));
  return 'timeout';
}

export interface LinkOptions {
  port: number;
  host?: string;
  log?: (line: string) => void;
}

export abstract class PluggedCard implements VirtualCard {
  abstract readonly atr: Uint8Array;
  private readonly chaining: ChainingProcessor;
  private readonly link: VpcdLink;

  constructor(opts: LinkOptions) {
    this.chaining = new ChainingProcessor((cmd) => this.dispatch(cmd));
    this.link = new VpcdLink(this, { port: opts.port, ...(opts.host ? { host: opts.host } : {}), ...(opts.log ? { log: opts.log } : {}) });
  }

  /** Handles one (unchained) command APDU; throws `SwError` for a status-only answer. */
  protected abstract dispatch(cmd: CommandApdu): Promise<Uint8Array> | Uint8Array;
  /** Clears volatile state (selection, verified PINs) on power off, power on or reset. */
  protected abstract clearVolatile(): void;
  /** Persists the card's state. */
  protected abstract save(): Promise<void>;

  get apduCount(): number {
    return this.link.apduCount;
  }

  powerCycle(): void {
    this.clearVolatile();
    this.chaining.reset();
  }

  process(apdu: Uint8Array): Promise<Uint8Array> {
    return this.chaining.process(apdu);
  }

  /** Plugs the card in (connects to vpcd). */
  async insert(): Promise<void> {
    await this.link.connect();
  }

  /** Pulls the card out. */
  async remove(): Promise<void> {
    await this.link.disconnect();
  }

  async stop(): Promise<void> {
    await this.remove();
    await this.save();
  }
}
