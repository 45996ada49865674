/**
 * Finding YubiKeys among the smart-card readers: each reader holding a card with a PIV
 * application and a serial is a candidate. Connections are shared (never exclusive) and are
 * closed leaving the card powered, so a PIN verified with policy "once" survives between
 * plugin runs.
 */
import type { CardReaders } from '../../transport/readers.ts';
import { PivSession, type Version } from '../../tokens/piv/session.ts';
import { YubiKeyError, translateTransportError } from './errors.ts';
export { translateTransportError };
import { S } from './strings.ts';

export interface YubiKey {
  reader: string;
  serial: number;
  version: Version;
  piv: PivSession;
  /** `leaveCard` (default true) keeps PIN and touch caches; false resets the card. */
  close(leaveCard?: boolean): Promise<void>;
}

export interface FindOptions {
  /** Called for readers that are skipped (no PIV, not reachable), for debug output. */
  log?: (line: string) => void;
}

async function openReader(readers: CardReaders, reader: string): Promise<YubiKey> {
  const transport = await readers.connect(reader);
  try {
    const piv = new PivSession(transport);
    await piv.select();
    const version = await piv.getVersion();
    const serial = await piv.getSerial();
    return { reader, serial, version, piv, close: (leaveCard = true) => transport.close(leaveCard) };
  } catch (e) {
    await transport.close(true).catch(() => undefined);
    throw e;
  }
}

/** Opens every YubiKey currently plugged in. Readers held by another program are reported, not skipped silently. */
export async function openAll(readers: CardReaders, opts: FindOptions = {}): Promise<YubiKey[]> {
  let names: string[];
  try {
    names = await readers.list();
  } catch (e) {
    throw translateTransportError(e);
  }
  const out: YubiKey[] = [];
  let busy: unknown;
  for (const name of names) {
    try {
      out.push(await openReader(readers, name));
    } catch (e) {
      const t = translateTransportError(e, name);
      if (t instanceof YubiKeyError && t.code === 'READER_BUSY') busy = t;
      opts.log?.(`Ignoring ${name}: ${(e as Error).message}`);
    }
  }
  if (out.length === 0 && busy) throw busy;
  return out;
}

/** Opens the YubiKey with this serial, or returns null when it is not plugged in. Other YubiKeys are closed. */
export async function openBySerial(readers: CardReaders, serial: number, opts: FindOptions = {}): Promise<YubiKey | null> {
  const all = await openAll(readers, opts);
  let found: YubiKey | null = null;
  for (const yk of all) {
    if (yk.serial === serial && !found) found = yk;
    else await yk.close(true);
  }
  return found;
}

/** Opens the one YubiKey to work on: by serial, or the only one plugged in. */
export async function openOne(readers: CardReaders, serial?: number, opts: FindOptions = {}): Promise<YubiKey> {
  if (serial !== undefined) {
    const yk = await openBySerial(readers, serial, opts);
    if (!yk) throw new YubiKeyError('NOT_FOUND', S.notFound(serial));
    return yk;
  }
  const all = await openAll(readers, opts);
  if (all.length === 0) throw new YubiKeyError('NOT_FOUND', S.noYubiKey);
  if (all.length > 1) {
    for (const yk of all) await yk.close(true);
    throw new YubiKeyError('MULTIPLE_YUBIKEYS', S.multiple);
  }
  return all[0]!;
}
