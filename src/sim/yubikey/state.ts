/**
 * The persistent state of a virtual YubiKey (what survives unplugging): identity, PIN/PUK and
 * their retry counters, the management key, key slots and data objects. Stored as JSON in a
 * 0600 file, written atomically after every change.
 */
import { JsonStateStore, readStateFile } from '../stateFile.ts';

export interface SlotState {
  /** Key algorithm byte (0x11 P-256, 0x14 P-384, 0xE1 X25519). */
  algorithm: number;
  /** Private scalar / key, hex. */
  privateKey: string;
  pinPolicy: number;
  touchPolicy: number;
  /** 1 generated, 2 imported. */
  origin: number;
}

export interface YubiKeyState {
  serial: number;
  version: [number, number, number];
  pin: string;
  puk: string;
  pinRetries: number;
  pinRetriesLeft: number;
  pukRetries: number;
  pukRetriesLeft: number;
  pinIsDefault: boolean;
  pukIsDefault: boolean;
  mgmtKey: string;
  mgmtAlgorithm: number;
  mgmtIsDefault: boolean;
  mgmtTouch: boolean;
  slots: Record<string, SlotState>;
  /** Data objects by id (hex id → hex value). */
  objects: Record<string, string>;
  /** The attestation key (slot F9, P-256 scalar, hex), made on first use. */
  attestationKey?: string;
}

export const DEFAULT_MGMT_KEY_HEX = '010203040506070801020304050607080102030405060708';

export function versionAtLeast(v: readonly number[], major: number, minor: number, patch = 0): boolean {
  if (v[0] !== major) return v[0]! > major;
  if (v[1] !== minor) return v[1]! > minor;
  return v[2]! >= patch;
}

export function parseVersion(s: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m) throw new Error(`invalid firmware version '${s}' (expected MAJOR.MINOR.PATCH, e.g. 5.7.1)`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function freshState(serial: number, version: [number, number, number]): YubiKeyState {
  return {
    serial,
    version,
    pin: '123456',
    puk: '12345678',
    pinRetries: 3,
    pinRetriesLeft: 3,
    pukRetries: 3,
    pukRetriesLeft: 3,
    pinIsDefault: true,
    pukIsDefault: true,
    mgmtKey: DEFAULT_MGMT_KEY_HEX,
    // Firmware 5.7 ships with an AES-192 default management key; earlier ones with TDES.
    mgmtAlgorithm: versionAtLeast(version, 5, 7) ? 0x0a : 0x03,
    mgmtIsDefault: true,
    mgmtTouch: false,
    slots: {},
    objects: {},
  };
}

export class StateStore extends JsonStateStore<YubiKeyState> {
  static load(path: string): YubiKeyState | null {
    const s = readStateFile(path, 'virtual YubiKey') as YubiKeyState | null;
    if (s === null) return null;
    if (typeof s.serial !== 'number' || !Array.isArray(s.version) || typeof s.pin !== 'string') {
      throw new Error(`${path} is not a virtual YubiKey state file`);
    }
    return s;
  }
}
