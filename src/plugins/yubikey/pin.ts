/**
 * PIN verification for decryption, following the slot's PIN policy: nothing for "never"; for
 * "once" an empty VERIFY first (no prompt when already verified in this card session); otherwise
 * a `request-secret` prompt with the reference's checks (6–8 characters, an accidental OTP touch
 * is recognised). Unlike the reference, a wrong PIN re-prompts while more than one try is left,
 * and the last try is never spent.
 */
import { PivError } from '../../tokens/piv/errors.ts';
import type { PinPolicy } from '../../tokens/piv/constants.ts';
import type { YubiKey } from './devices.ts';
import { YubiKeyError } from './errors.ts';
import { S } from './strings.ts';
import type { YubiKeyUi } from './ui.ts';

const MODHEX = 'cbdefghijklnrtuv';

/** The 12-character modhex prefix a YubiKey OTP of this serial starts with. */
export function otpPrefix(serial: number): string {
  const hex = serial.toString(16).padStart(8, '0');
  return 'cccc' + [...hex].map((c) => MODHEX[parseInt(c, 16)]).join('');
}

/** Returns a re-prompt prefix when the entry cannot be a PIN, else null. */
export function pinEntryProblem(pin: string, serial: number): string | null {
  if (pin.length === 44 && pin.startsWith(otpPrefix(serial))) return S.pinOtp;
  if (pin.length < 6) return S.pinTooShort;
  if (new TextEncoder().encode(pin).length > 8) return S.pinTooLong;
  return null;
}

export async function verifyPinForDecryption(yk: YubiKey, policy: PinPolicy | undefined, ui: YubiKeyUi): Promise<void> {
  if (policy === 'never') return;
  const status = await yk.piv.pinStatus();
  if (policy === 'once' && status.verified) return;
  let retriesLeft = status.retriesLeft;
  let prefix = '';
  for (;;) {
    if (retriesLeft === 0) throw new YubiKeyError('PIN_BLOCKED', S.pinBlocked(yk.serial));
    if (retriesLeft === 1) throw new YubiKeyError('PIN_LAST_RETRY', S.pinLastRetry(yk.serial));
    let pin: string;
    try {
      pin = await ui.requestSecret(prefix + S.pinPrompt(yk.serial));
    } catch (cause) {
      throw new YubiKeyError('PIN_REQUIRED', S.pinRequired(yk.serial), { cause });
    }
    const problem = pinEntryProblem(pin, yk.serial);
    if (problem) {
      prefix = problem + ' ';
      continue;
    }
    try {
      await yk.piv.verifyPin(pin);
      return;
    } catch (e) {
      if (e instanceof PivError && e.code === 'PIN_INVALID') {
        retriesLeft = e.retriesLeft;
        prefix = `${S.pinInvalid(retriesLeft ?? 0)}. `;
        continue;
      }
      if (e instanceof PivError && e.code === 'PIN_BLOCKED') throw new YubiKeyError('PIN_BLOCKED', S.pinBlocked(yk.serial), { cause: e });
      throw e;
    }
  }
}
