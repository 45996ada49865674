/**
 * The YubiKey's PIN for the kit's PIN loop: the reference's entry checks (6–8 characters, an
 * accidental OTP touch is recognised) over PIV VERIFY. The loop itself (retries shown, the last
 * try never spent, blocked PINs) is the kit's.
 */
import type { PinTarget } from '../kit/family.ts';
import type { YubiKey } from './devices.ts';
import { S } from './strings.ts';

const MODHEX = 'cbdefghijklnrtuv';

/** The 12-character modhex prefix a YubiKey OTP of this serial starts with. */
export function otpPrefix(serial: number): string {
  const hex = serial.toString(16).padStart(8, '0');
  return 'cccc' + [...hex].map((c) => MODHEX[parseInt(c, 16)]).join('');
}

/**
 * Returns a re-prompt prefix when the entry cannot be a PIN, else null. With the card's serial,
 * an OTP typed by touching that YubiKey is recognised too (not for a new PIN, chosen before any
 * touch).
 */
export function pinEntryProblem(pin: string, serial?: number): string | null {
  if (serial !== undefined && pin.length === 44 && pin.startsWith(otpPrefix(serial))) return S.pinOtp;
  if (pin.length < 6) return S.pinTooShort;
  if (new TextEncoder().encode(pin).length > 8) return S.pinTooLong;
  return null;
}

/** The card's PIN as the kit's PIN loop sees it: status, VERIFY, and the reference's entry checks. */
export function pivPin(yk: YubiKey): PinTarget {
  return {
    status: () => yk.piv.pinStatus(),
    verify: (pin) => yk.piv.verifyPin(pin),
    check: (pin) => pinEntryProblem(pin, yk.serial),
  };
}
