/**
 * Pico HSMs among the PC/SC readers: every reader whose card answers the SmartCard-HSM SELECT is
 * one, named by the serial OpenSC also shows (the device certificate's holder reference) and by
 * the 24-bit tag identities carry. An uninitialised device is found too, flagged, never changed.
 * Connections are closed leaving the device powered, so a verified PIN lasts to the next file.
 */
import type { CardReaders } from '../../transport/readers.ts';
import { ScHsmError } from '../../tokens/schsm/errors.ts';
import { ScHsmSession, type DeviceInfo } from '../../tokens/schsm/session.ts';
import { deviceTag } from './identity.ts';

export interface PicoHsm {
  reader: string;
  session: ScHsmSession;
  info: DeviceInfo;
  initialised: boolean;
  /** null while uninitialised (no device certificate yet). */
  serial: string | null;
  tag: number | null;
  close(): Promise<void>;
}

/** Opens the card in `reader` as a Pico HSM; null when it is something else. */
export async function openPicoHsm(readers: CardReaders, reader: string, log?: (line: string) => void): Promise<PicoHsm | null> {
  const transport = await readers.connect(reader);
  const close = () => transport.close(true);
  try {
    const session = new ScHsmSession(transport);
    let info: DeviceInfo;
    try {
      info = await session.select();
    } catch (e) {
      if (e instanceof ScHsmError && (e.code === 'APPLET_NOT_FOUND' || e.code === 'CARD')) {
        log?.(`${reader}: not a SmartCard-HSM`);
        await close();
        return null;
      }
      throw e;
    }
    const status = await session.pinStatus();
    const serial = status.initialised ? await session.serial() : null;
    return { reader, session, info, initialised: status.initialised, serial, tag: serial === null ? null : deviceTag(serial), close };
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
}

/** Every Pico HSM plugged in (the caller closes them). */
export async function listPicoHsms(readers: CardReaders, log?: (line: string) => void): Promise<PicoHsm[]> {
  const out: PicoHsm[] = [];
  for (const reader of await readers.list()) {
    try {
      const d = await openPicoHsm(readers, reader, log);
      if (d) out.push(d);
    } catch (e) {
      log?.(`${reader}: ${(e as Error).message}`);
    }
  }
  return out;
}
