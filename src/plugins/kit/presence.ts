/**
 * Absent devices: open the device an identity names, and when it is not plugged in, skip it (the
 * family's skip-not-found variable), fail at once when nobody could be asked (no terminal), or ask
 * through `confirm` ("plugged in" / "skip") and wait for it; clients without `confirm` get a
 * message and a bounded wait.
 */
import type { PluginUi } from '../../age/plugin/ui.ts';
import { KitError } from './errors.ts';
import type { DeviceAccess, DeviceRef, KitTexts, OpenDevice } from './family.ts';

export interface PresenceOptions {
  texts: KitTexts;
  ui: PluginUi;
  skipNotFound: boolean;
  /** Whether someone could answer (a terminal exists); checked only when a device is absent. */
  interactive: boolean | (() => boolean);
  sleep: (ms: number) => Promise<void>;
  log?: (line: string) => void;
}

/** The open device, or null when the user (or the environment) chose to skip it. */
export async function openOrAsk<D extends OpenDevice>(devices: DeviceAccess<D>, ref: DeviceRef, o: PresenceOptions): Promise<D | null> {
  const { texts, ui } = o;
  const open = () => devices.open(ref, o.log);
  let device = await open();
  if (device) return device;
  if (o.skipNotFound) {
    o.log?.(texts.skipped(ref.label));
    return null;
  }
  const interactive = typeof o.interactive === 'function' ? o.interactive() : o.interactive;
  if (!interactive) throw new KitError('NOT_FOUND', texts.noTerminal(ref.label));
  let question = texts.insertConfirm(ref.label);
  for (;;) {
    let answer: boolean | 'unsupported';
    try {
      answer = await ui.confirm(question, texts.insertYes, texts.insertNo);
    } catch (cause) {
      throw new KitError('NOT_FOUND', texts.openFailed(ref.label), { cause });
    }
    if (answer === false) return null;
    if (answer === 'unsupported') {
      await ui.message(question);
      for (let i = 0; i < 15; i++) {
        await o.sleep(1000);
        device = await open();
        if (device) return device;
      }
      throw new KitError('NOT_FOUND', texts.insertTimeout(ref.label));
    }
    // The reader service notices a new card within one or two polls: give it a moment before asking again.
    for (let i = 0; i < 10; i++) {
      device = await open();
      if (device) return device;
      await o.sleep(300);
    }
    question = texts.insertRetry(ref.label);
  }
}
