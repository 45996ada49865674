/**
 * Bech32 as age uses it (BIP 173 without the 90-character limit), and the two plugin encodings
 * built on it (C2SP age-plugin.md):
 *
 *   recipient  age1<name>1<data>           lowercase
 *   identity   AGE-PLUGIN-<NAME>-1<data>   conventionally uppercase
 *
 * Decoding is strict: a valid checksum, one case throughout, and the plugin name of the HRP made
 * of the characters a plugin name may hold.
 */
import { bech32 } from '@scure/base';

export const PLUGIN_RECIPIENT_PREFIX = 'age1';
export const PLUGIN_IDENTITY_PREFIX = 'age-plugin-';

const PLUGIN_NAME = /^[a-z0-9+\-._]+$/;

export class Bech32Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Bech32Error';
  }
}

export function bech32Encode(hrp: string, data: Uint8Array): string {
  return bech32.encode(hrp, bech32.toWords(data), false);
}

/** Decodes a Bech32 string; the HRP comes back lowercase. */
export function bech32Decode(s: string): { hrp: string; data: Uint8Array } {
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) throw new Bech32Error('mixed-case Bech32 string');
  try {
    const { prefix, words } = bech32.decode(s as `${string}1${string}`, false);
    return { hrp: prefix.toLowerCase(), data: bech32.fromWords(words) };
  } catch (e) {
    throw new Bech32Error(`invalid Bech32 string: ${(e as Error).message.slice(0, 80)}`);
  }
}

export function encodePluginRecipient(name: string, data: Uint8Array): string {
  return bech32Encode(PLUGIN_RECIPIENT_PREFIX + name, data);
}

export function encodePluginIdentity(name: string, data: Uint8Array): string {
  return bech32Encode(`${PLUGIN_IDENTITY_PREFIX}${name}-`, data).toUpperCase();
}

/** A recipient or identity with its Bech32 decoded and its HRP checked. */
export interface PluginEncoding {
  /** The plugin name from the HRP, lowercase. */
  name: string;
  data: Uint8Array;
}

/** Decodes `age1<name>1…`; recipients must be lowercase. */
export function decodePluginRecipient(s: string): PluginEncoding {
  if (s !== s.toLowerCase()) throw new Bech32Error('a recipient must be lowercase');
  const { hrp, data } = bech32Decode(s);
  const name = hrp.slice(PLUGIN_RECIPIENT_PREFIX.length);
  if (!hrp.startsWith(PLUGIN_RECIPIENT_PREFIX) || !PLUGIN_NAME.test(name)) throw new Bech32Error('not a plugin recipient');
  return { name, data };
}

/** Decodes `AGE-PLUGIN-<NAME>-1…` (either case, as Bech32 allows). */
export function decodePluginIdentity(s: string): PluginEncoding {
  const { hrp, data } = bech32Decode(s);
  const name = hrp.slice(PLUGIN_IDENTITY_PREFIX.length, -1);
  if (!hrp.startsWith(PLUGIN_IDENTITY_PREFIX) || !hrp.endsWith('-') || !PLUGIN_NAME.test(name)) throw new Bech32Error('not a plugin identity');
  return { name, data };
}
