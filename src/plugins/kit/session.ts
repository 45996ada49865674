/**
 * The kit's user-facing rules for families whose device is not known from the identity alone
 * (FIDO2: the key holding a credential is found by asking every key) and whose engines open
 * devices themselves: one object that opens a device with the absent-device rules
 * (`presence.ts`), runs the PIN loop (`pin.ts`, with the PIN sources), and shows the touch
 * message — the same texts and sources the kit's engines use.
 */
import type { PluginUi } from '../../age/plugin/ui.ts';
import type { DeviceAccess, DeviceRef, KitTexts, OpenDevice, PinTarget } from './family.ts';
import { verifyPin } from './pin.ts';
import { userPinSource, type PinSource } from './pinSource.ts';
import { openOrAsk } from './presence.ts';

export interface UserRulesOptions {
  /** The plugin name. */
  family: string;
  texts: KitTexts;
  ui: Pick<PluginUi, 'message' | 'confirm' | 'requestSecret'>;
  /** PIN sources before the user (an agent, CI). */
  pinSources?: PinSource[];
  skipNotFound?: boolean;
  /** Whether someone could be asked about an absent device; checked only when one is absent. */
  interactive?: boolean | (() => boolean);
  log?: (line: string) => void;
}

export interface UserRules {
  /** The device `ref` names, asked for when absent; null when skipped. */
  open<D extends OpenDevice>(access: DeviceAccess<D>, ref: DeviceRef): Promise<D | null>;
  /** The kit's PIN loop on `target` for `device`. */
  verifyPin(target: PinTarget, device: DeviceRef): Promise<void>;
  /** The touch message for the device named `label` (sent without waiting for the client). */
  touch(label: string): void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function userRules(o: UserRulesOptions): UserRules {
  const ui: PluginUi = { ...o.ui, requestPublic: () => Promise.reject(new Error('request-public is not used here')) };
  const sources = [...(o.pinSources ?? []), userPinSource(o.ui)];
  return {
    open: (access, ref) =>
      openOrAsk(access, ref, { texts: o.texts, ui, skipNotFound: o.skipNotFound ?? false, interactive: o.interactive ?? true, sleep, ...(o.log ? { log: o.log } : {}) }),
    verifyPin: (target, device) => verifyPin(target, { family: o.family, device, texts: o.texts, sources }),
    touch: (label) => void o.ui.message(o.texts.touch(label)).catch(() => undefined),
  };
}

/** What an in-process caller (typage adapters) gives instead of an age client. */
export interface InProcessUser {
  /** Supplies the PIN when the device requires it; reject to decline. */
  pin?: (prompt: string) => Promise<string>;
  /** Receives messages such as "Touch your …". */
  message?: (text: string) => void;
}

/**
 * The user side of `userRules` in-process: messages to `message`, PINs from `pin`, and nobody to
 * ask about an absent device (`confirm` is unsupported, so the presence rules fail or skip).
 */
export function inProcessUi(u: InProcessUser, noPin: () => Error): Pick<PluginUi, 'message' | 'confirm' | 'requestSecret'> {
  return {
    message: async (t) => u.message?.(t),
    confirm: async () => 'unsupported',
    requestSecret: async (p) => {
      if (!u.pin) throw noPin();
      return u.pin(p);
    },
  };
}
