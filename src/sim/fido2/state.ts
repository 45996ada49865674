/**
 * What a virtual authenticator keeps across power cycles: its AAGUID, the device secret that
 * wraps every credential id, the PIN (as the left half of SHA-256, like CTAP's "pinHash"), the
 * PIN retry counter, the signature counter and RS256 credential keys. Stored as JSON in a 0600 file, written atomically
 * after each change. Volatile state (key agreement key, PIN token, the "three wrong PINs in a
 * row" counter) lives in the authenticator and is lost on power cycle, as CTAP requires.
 */
import { randomBytes } from 'node:crypto';
import { JsonStateStore, readStateFile } from '../stateFile.ts';

export const MAX_PIN_RETRIES = 8;

export interface Fido2State {
  /** 16 bytes, hex. */
  aaguid: string;
  /** 32 bytes, hex: wraps credential private keys and CredRandom values into credential ids. */
  deviceSecret: string;
  /** LEFT(SHA-256(PIN), 16), hex, when a PIN is set. */
  pinHash?: string;
  pinRetries: number;
  signCount: number;
  /** Shown in getInfo and in the HID product string. */
  name: string;
  /** RS256 credential keys (too large for a credential id): handle (hex) → PKCS#8 DER, base64. */
  rsaKeys?: Record<string, string>;
}

export function freshFido2State(name = 'keybridge virtual FIDO2'): Fido2State {
  return {
    aaguid: randomBytes(16).toString('hex'),
    deviceSecret: randomBytes(32).toString('hex'),
    pinRetries: MAX_PIN_RETRIES,
    signCount: 0,
    name,
  };
}

export class Fido2StateStore extends JsonStateStore<Fido2State> {
  /** Loads the state file, or returns null when it does not exist. */
  static load(path: string): Fido2State | null {
    const s = readStateFile(path, 'virtual FIDO2 authenticator') as Fido2State | null;
    if (s === null) return null;
    const hex = (v: unknown, n: number) => typeof v === 'string' && v.length === 2 * n && /^[0-9a-f]+$/.test(v);
    if (
      typeof s !== 'object' ||
      !hex(s.aaguid, 16) ||
      !hex(s.deviceSecret, 32) ||
      (s.pinHash !== undefined && !hex(s.pinHash, 16)) ||
      !Number.isInteger(s.pinRetries) ||
      s.pinRetries < 0 ||
      s.pinRetries > MAX_PIN_RETRIES ||
      !Number.isInteger(s.signCount) ||
      s.signCount < 0 ||
      typeof s.name !== 'string' ||
      (s.rsaKeys !== undefined && (typeof s.rsaKeys !== 'object' || s.rsaKeys === null || Object.entries(s.rsaKeys).some(([h, k]) => !hex(h, 32) || typeof k !== 'string' || k.length > 4096)))
    ) {
      throw new Error(`${path} is not a virtual FIDO2 authenticator state file`);
    }
    return s;
  }
}
