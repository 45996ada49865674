/**
 * What a virtual Pico HSM keeps across unplugging: its serial, device key, whether it is
 * initialised, PIN and SO-PIN with their retry counters, the device options, the key pairs and
 * the elementary files (PKCS#15 descriptions, certificates, token info, …). JSON in a 0600 file.
 */
import { randomBytes } from 'node:crypto';
import { JsonStateStore, readStateFile } from '../stateFile.ts';
import type { CurveName } from './cvc.ts';

export interface HsmKey {
  curve: CurveName;
  /** Private scalar (P-256, big-endian) or X25519 private key, hex. */
  privateKey: string;
  /** Algorithms the key may be used with (`91` in the generation request); absent = any. */
  algorithms?: number[];
}

export interface PicoHsmState {
  kind: 'keybridge-virtual-picohsm';
  /** The serial OpenSC derives from the device certificate's CHR (at most 11 characters). */
  serial: string;
  version: [number, number];
  /** Device authentication key (P-256 scalar, hex) and the issuing CA's key, made at first initialisation. */
  deviceKey: string | null;
  issuerKey: string | null;
  initialized: boolean;
  /** Device options (INITIALIZE tag 80): 0x0001 reset retry counter allowed, 0x0100 press-to-confirm button. */
  options: number;
  /** PIN (hex of its bytes) and SO-PIN (hex, 8 bytes); null before initialisation. */
  pin: string | null;
  soPin: string | null;
  pinRetries: number;
  pinRetriesLeft: number;
  soPinRetriesLeft: number;
  /** Key pairs by key id (two hex digits). */
  keys: Record<string, HsmKey>;
  /** Elementary files by file id (four hex digits) → content (hex). */
  files: Record<string, string>;
}

export const SO_PIN_RETRIES = 15;
export const SERIAL_PATTERN = /^[A-Z0-9]{4,11}$/;

export function isPicoHsmState(v: unknown): v is PicoHsmState {
  const s = v as PicoHsmState;
  return typeof s === 'object' && s !== null && s.kind === 'keybridge-virtual-picohsm' && typeof s.serial === 'string' && typeof s.keys === 'object' && typeof s.files === 'object';
}

export function freshState(serial?: string): PicoHsmState {
  const sn = serial ?? `ESPH${randomBytes(4).toString('hex').toUpperCase().slice(0, 7)}`;
  if (!SERIAL_PATTERN.test(sn)) throw new Error(`invalid serial '${sn}' (4 to 11 characters A-Z 0-9)`);
  return {
    kind: 'keybridge-virtual-picohsm',
    serial: sn,
    version: [5, 4],
    deviceKey: null,
    issuerKey: null,
    initialized: false,
    options: 0x0001,
    pin: null,
    soPin: null,
    pinRetries: 3,
    pinRetriesLeft: 3,
    soPinRetriesLeft: SO_PIN_RETRIES,
    keys: {},
    files: {},
  };
}

export class PicoHsmStore extends JsonStateStore<PicoHsmState> {
  static load(path: string): PicoHsmState | null {
    const v = readStateFile(path, 'virtual Pico HSM');
    if (v === null) return null;
    if (!isPicoHsmState(v)) throw new Error(`${path} is not a virtual Pico HSM state file`);
    return v;
  }
}
