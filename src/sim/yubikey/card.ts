/**
 * The virtual YubiKey: a card with the PIV and management applications behind an ATR like a
 * YubiKey 5's, connected to pcscd through vpcd. Touch is simulated by a switchable behaviour
 * (approve, deny, or time out), state persists in a file, and the card can be pulled and
 * re-inserted like a real one.
 */
import { response, SW, SwError, type CommandApdu } from '../apdu.ts';
import { PluggedCard, userPresence, type LinkOptions } from '../pluggedCard.ts';
import { managementProcess, managementSelect } from './management.ts';
import { PivApplet, type TouchBehaviour } from './piv.ts';
import { freshState, parseVersion, StateStore } from './state.ts';

const ATR = Uint8Array.from(Buffer.from('3BFD1300008131FE158073C021C057597562694B657940', 'hex'));
const PIV_AID = Uint8Array.of(0xa0, 0x00, 0x00, 0x03, 0x08);
const MGMT_AID = Uint8Array.of(0xa0, 0x00, 0x00, 0x05, 0x27, 0x47, 0x11, 0x17);

function startsWith(a: Uint8Array, prefix: Uint8Array): boolean {
  return a.length >= prefix.length && prefix.every((b, i) => a[i] === b);
}

export interface VirtualYubiKeyOptions extends LinkOptions {
  serial?: number;
  /** Firmware version, e.g. "5.7.1" (default). */
  version?: string;
  /** State file (created 0600 when missing). Without it, state lives in memory only. */
  statePath?: string;
  touch?: TouchBehaviour;
}

export class VirtualYubiKey extends PluggedCard {
  readonly atr = ATR;
  readonly store: StateStore;
  private readonly piv: PivApplet;
  private selected: 'piv' | 'mgmt' | null = null;
  private touchBehaviour: TouchBehaviour;
  /** Number of touches requested (approved or not). */
  touchRequests = 0;

  constructor(opts: VirtualYubiKeyOptions) {
    super(opts);
    const loaded = opts.statePath ? StateStore.load(opts.statePath) : null;
    const state = loaded ?? freshState(opts.serial ?? 19088743, parseVersion(opts.version ?? '5.7.1'));
    this.store = new StateStore(state, opts.statePath);
    this.touchBehaviour = opts.touch ?? 'approve';
    this.piv = new PivApplet(this.store, { touch: () => this.touch() });
  }

  get serial(): number {
    return this.store.state.serial;
  }

  setTouch(b: TouchBehaviour): void {
    this.touchBehaviour = b;
  }

  private async touch(): Promise<boolean> {
    this.touchRequests++;
    return (await userPresence(this.touchBehaviour)) === 'approve';
  }

  protected async dispatch(cmd: CommandApdu): Promise<Uint8Array> {
    if (cmd.ins === 0xa4 && (cmd.cla & 0xef) === 0) {
      if (cmd.p1 !== 0x04) throw new SwError(SW.INCORRECT_P1P2);
      if (startsWith(cmd.data, PIV_AID) && cmd.data.length >= 5) {
        this.selected = 'piv';
        return this.piv.selectResponse();
      }
      if (startsWith(cmd.data, MGMT_AID)) {
        this.selected = 'mgmt';
        return managementSelect(this.store.state);
      }
      throw new SwError(SW.NOT_FOUND);
    }
    if (this.selected === 'piv') return this.piv.process(cmd);
    if (this.selected === 'mgmt') return managementProcess(this.store.state, cmd);
    return response(new Uint8Array(0), SW.CONDITIONS);
  }

  protected clearVolatile(): void {
    this.selected = null;
    this.piv.reset();
  }

  protected save(): Promise<void> {
    return this.store.save();
  }
}

export async function startVirtualYubiKey(opts: VirtualYubiKeyOptions): Promise<VirtualYubiKey> {
  const yk = new VirtualYubiKey(opts);
  await yk.insert();
  await yk.store.save();
  return yk;
}
