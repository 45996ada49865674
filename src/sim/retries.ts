/**
 * The card side of a retry counter (ISO 7816-4 VERIFY, CHANGE REFERENCE DATA, RESET RETRY
 * COUNTER): a PIN, PUK or SO-PIN with no tries left answers 6983 without comparing; a wrong value
 * costs a try, saved before the answer 63Cx (x tries left; 6983 for the last one). A right value
 * costs nothing: the applet refills the counter when its command succeeds.
 */
import { response, SW } from './apdu.ts';

/** 63Cx with x tries left, or 6983 when none is. */
export function retriesSw(left: number): Uint8Array {
  return response(new Uint8Array(0), left === 0 ? SW.AUTH_BLOCKED : 0x63c0 | left);
}

/** The refusal of a presented value counted in `state[left]`, or null when `correct` and not blocked. */
export async function refusal<K extends string>(state: Record<K, number>, left: K, correct: boolean, save: () => Promise<void>): Promise<Uint8Array | null> {
  if (state[left] === 0) return retriesSw(0);
  if (correct) return null;
  state[left]--;
  await save();
  return retriesSw(state[left]);
}
