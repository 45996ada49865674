/**
 * The one PIN loop every family uses: skip when the PIN is already verified and the policy allows,
 * ask the PIN sources in order, show the tries left after a wrong PIN, re-prompt on entries that
 * cannot be a PIN, never spend the last try, and report a blocked PIN with the family's text.
 */
import { isTokenError, PinBlocked } from '../../tokens/errors.ts';
import { KitError } from './errors.ts';
import type { DeviceRef, KitTexts, PinTarget } from './family.ts';
import type { PinRequest, PinSource } from './pinSource.ts';

export interface PinLoopOptions {
  family: string;
  device: DeviceRef;
  texts: Pick<KitTexts, 'pinPrompt' | 'pinRequired' | 'pinInvalid' | 'pinLastRetry' | 'pinBlocked'>;
  sources: PinSource[];
  /** PIN policy "once": no prompt when the card session already has the PIN verified. */
  once?: boolean;
}

export async function verifyPin(target: PinTarget, opts: PinLoopOptions): Promise<void> {
  const { texts, device } = opts;
  const status = await target.status();
  if (opts.once && status.verified) return;
  let retriesLeft = status.retriesLeft;
  let prefix = '';
  const spent = new Set<PinSource>();
  for (;;) {
    if (retriesLeft === 0) throw new PinBlocked(texts.pinBlocked(device.label));
    if (retriesLeft === 1) throw new KitError('PIN_LAST_RETRY', texts.pinLastRetry(device.label));
    const req: PinRequest = { family: opts.family, device, prompt: prefix + texts.pinPrompt(device.label), retriesLeft };
    let pin: string | undefined;
    let source: PinSource | undefined;
    try {
      for (const s of opts.sources) {
        if (spent.has(s)) continue;
        pin = await s.pin(req);
        if (pin !== undefined) {
          source = s;
          break;
        }
      }
    } catch (cause) {
      throw new KitError('PIN_REQUIRED', texts.pinRequired(device.label), { cause });
    }
    if (pin === undefined || !source) throw new KitError('PIN_REQUIRED', texts.pinRequired(device.label));
    if (!source.interactive) spent.add(source);
    const problem = target.check?.(pin) ?? null;
    if (problem) {
      prefix = problem + ' ';
      continue;
    }
    try {
      await target.verify(pin);
      source.outcome?.(req, true);
      return;
    } catch (e) {
      if (isTokenError(e, 'PIN_INVALID')) {
        source.outcome?.(req, false);
        retriesLeft = e.retriesLeft;
        prefix = `${texts.pinInvalid(retriesLeft ?? 0)}. `;
        continue;
      }
      if (isTokenError(e, 'PIN_BLOCKED')) {
        source.outcome?.(req, false);
        throw new PinBlocked(texts.pinBlocked(device.label), e);
      }
      throw e;
    }
  }
}
