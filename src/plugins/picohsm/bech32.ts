/**
 * Bech32 as age uses it (BIP 173 without the 90-character limit), with the case rules of age's
 * plugin names: recipients lowercase, identities uppercase, never mixed.
 */
import { bech32 } from '@scure/base';

export function bech32Encode(hrp: string, data: Uint8Array): string {
  return bech32.encode(hrp, bech32.toWords(data), false);
}

/** Decodes; the HRP comes back lowercase. Throws on a bad checksum, mixed case or bad characters. */
export function bech32Decode(s: string): { hrp: string; data: Uint8Array } {
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) throw new Error('mixed-case Bech32 string');
  const { prefix, words } = bech32.decode(s.toLowerCase() as `${string}1${string}`, false);
  return { hrp: prefix, data: bech32.fromWords(words) };
}
