/**
 * Where PINs come from. The kit's PIN loop asks a chain of sources in order: an agent holding
 * the PIN for a batch, an opt-in source for CI, and finally the user (through the age client's
 * `request-secret`). Families never see the chain: they verify through `TokenContext.verifyPin`,
 * so a new source plugs in without touching any family.
 */
import type { PluginUi } from '../../age/plugin/ui.ts';
import type { DeviceRef } from './family.ts';

export interface PinRequest {
  /** The family's plugin name. */
  family: string;
  device: DeviceRef;
  /** The prompt the user would see (with the retry prefix, if any). */
  prompt: string;
  /** Tries left before the PIN is blocked, when the device says. */
  retriesLeft: number | undefined;
}

export interface PinSource {
  /** Non-interactive sources are asked once per PIN loop: a wrong PIN from them is not repeated. */
  readonly interactive: boolean;
  /** A PIN, or undefined to pass to the next source. Rejects when the user declines. */
  pin(req: PinRequest): Promise<string | undefined>;
  /** Told whether the PIN it gave was right (an agent keeps a right one, forgets a wrong one). */
  outcome?(req: PinRequest, ok: boolean): void;
}

/** The user, asked through the age client (`request-secret`). */
export function userPinSource(ui: Pick<PluginUi, 'requestSecret'>): PinSource {
  return { interactive: true, pin: (req) => ui.requestSecret(req.prompt) };
}
