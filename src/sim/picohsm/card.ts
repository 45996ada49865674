/**
 * The virtual Pico HSM: the SmartCard-HSM application behind the Pico HSM's ATR, plugged into
 * pcscd through vpcd. Its state persists in a 0600 file; it can start uninitialised (as a new
 * device) or initialised with a PIN and SO-PIN; the press-to-confirm button approves, refuses or
 * lets the window run out; the device can be pulled and re-inserted.
 */
import { concatBytes, tlv } from '../../transport/tlv.ts';
import { parseCommand, type CommandApdu } from '../apdu.ts';
import { PluggedCard, userPresence, type LinkOptions, type PresenceBehaviour, type PresenceOutcome } from '../pluggedCard.ts';
import { ScHsmApplet, SCHSM_AID } from './applet.ts';
import { freshState, PicoHsmStore } from './state.ts';

/** The Pico HSM's ATR (the SmartCard-HSM's): OpenSC's sc-hsm driver matches it. */
const ATR = Uint8Array.from(Buffer.from('3BFE1800008131FE458031815448534D31738021408107FA', 'hex'));

/** Button behaviour: no button (option off), or a press / refusal / no press within `timeoutMs`. */
export type ButtonBehaviour = 'off' | PresenceBehaviour;

export interface VirtualPicoHsmOptions extends LinkOptions {
  /** Serial (4–11 characters A-Z 0-9) for a new device; ignored when the state file exists. */
  serial?: string;
  /** State file (created 0600). Without it the device lives in memory only. */
  statePath?: string;
  /**
   * For a new device: initialise it with this PIN and SO-PIN (16 hex digits) and retry counter;
   * false leaves it uninitialised, as it comes from the factory. Default: PIN 648219, SO-PIN
   * 3537363231383830, 3 retries.
   */
  initialise?: { pin: string; soPin: string; retries?: number } | false;
  button?: ButtonBehaviour;
}

export const DEFAULT_PIN = '648219';
export const DEFAULT_SO_PIN = '3537363231383830';

export class VirtualPicoHsm extends PluggedCard {
  readonly atr = ATR;
  readonly store: PicoHsmStore;
  private readonly applet: ScHsmApplet;
  private buttonBehaviour: ButtonBehaviour;
  /** Number of button presses asked for. */
  buttonRequests = 0;

  constructor(opts: VirtualPicoHsmOptions) {
    super(opts);
    const loaded = opts.statePath ? PicoHsmStore.load(opts.statePath) : null;
    this.store = new PicoHsmStore(loaded ?? freshState(opts.serial), opts.statePath);
    this.buttonBehaviour = opts.button ?? 'off';
    this.applet = new ScHsmApplet(this.store, {
      buttonEnabled: () => this.buttonBehaviour !== 'off',
      button: () => this.pressButton(),
    });
  }

  get serial(): string {
    return this.store.state.serial;
  }

  setButton(b: ButtonBehaviour): void {
    this.buttonBehaviour = b;
  }

  private pressButton(): Promise<PresenceOutcome> {
    this.buttonRequests++;
    return userPresence(this.buttonBehaviour === 'off' ? 'approve' : this.buttonBehaviour);
  }

  /** Initialises the device as `sc-hsm-tool --initialize --so-pin … --pin …` does. */
  async initialiseWith(pin: string, soPin: string, retries = 3): Promise<void> {
    if (!/^[0-9a-fA-F]{16}$/.test(soPin)) throw new Error('the SO-PIN must be 16 hexadecimal digits');
    const data = concatBytes(tlv(0x80, Uint8Array.of(0x00, 0x01)), tlv(0x81, new TextEncoder().encode(pin)), tlv(0x82, Uint8Array.from(Buffer.from(soPin, 'hex'))), tlv(0x91, Uint8Array.of(retries)));
    await this.applet.process(parseCommand(concatBytes(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, SCHSM_AID.length), SCHSM_AID)));
    const r = await this.applet.process(parseCommand(concatBytes(Uint8Array.of(0x80, 0x50, 0x00, 0x00, data.length), data)));
    this.applet.reset();
    if (r[r.length - 2] !== 0x90) throw new Error('initialising the virtual Pico HSM failed');
  }

  protected dispatch(cmd: CommandApdu): Promise<Uint8Array> {
    return this.applet.process(cmd);
  }

  protected clearVolatile(): void {
    this.applet.reset();
  }

  protected save(): Promise<void> {
    return this.store.save();
  }
}

export async function startVirtualPicoHsm(opts: VirtualPicoHsmOptions): Promise<VirtualPicoHsm> {
  const hsm = new VirtualPicoHsm(opts);
  const init = opts.initialise ?? { pin: DEFAULT_PIN, soPin: DEFAULT_SO_PIN };
  if (init && !hsm.store.state.initialized) await hsm.initialiseWith(init.pin, init.soPin, init.retries);
  await hsm.store.save();
  await hsm.insert();
  return hsm;
}
