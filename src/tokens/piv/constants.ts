/**
 * PIV names and numbers as YubiKeys implement them (NIST SP 800-73-4 plus Yubico's extensions):
 * instruction bytes, slots, key and management-key algorithms, PIN and touch policies, data
 * object ids.
 */
import { ISO_INS } from '../../transport/iso7816.ts';

export const PIV_AID = Uint8Array.of(0xa0, 0x00, 0x00, 0x03, 0x08);
export const YUBICO_MGMT_AID = Uint8Array.of(0xa0, 0x00, 0x00, 0x05, 0x27, 0x47, 0x11, 0x17);

export const Ins = {
  ...ISO_INS,
  GENERATE: 0x47,
  GENERAL_AUTHENTICATE: 0x87,
  GET_DATA: 0xcb,
  PUT_DATA: 0xdb,
  GET_METADATA: 0xf7,
  GET_SERIAL: 0xf8,
  ATTEST: 0xf9,
  GET_VERSION: 0xfd,
  SET_MGMT_KEY: 0xff,
} as const;

/** The PIN and PUK key references (P2 of VERIFY / CHANGE REFERENCE). */
export const PIN_REF = 0x80;
export const PUK_REF = 0x81;
export const MGMT_KEY_SLOT = 0x9b;

export const enum KeyAlgorithm {
  Rsa1024 = 0x06,
  Rsa2048 = 0x07,
  EccP256 = 0x11,
  EccP384 = 0x14,
  Ed25519 = 0xe0,
  X25519 = 0xe1,
}

export const enum MgmtKeyAlgorithm {
  Tdes = 0x03,
  Aes128 = 0x08,
  Aes192 = 0x0a,
  Aes256 = 0x0c,
}

export type PinPolicy = 'default' | 'never' | 'once' | 'always';
export type TouchPolicy = 'default' | 'never' | 'always' | 'cached';

export const PIN_POLICY_BYTE: Record<PinPolicy, number> = { default: 0, never: 1, once: 2, always: 3 };
export const TOUCH_POLICY_BYTE: Record<TouchPolicy, number> = { default: 0, never: 1, always: 2, cached: 3 };

export function pinPolicyFromByte(b: number): PinPolicy | undefined {
  return (Object.keys(PIN_POLICY_BYTE) as PinPolicy[]).find((k) => PIN_POLICY_BYTE[k] === b);
}
export function touchPolicyFromByte(b: number): TouchPolicy | undefined {
  return (Object.keys(TOUCH_POLICY_BYTE) as TouchPolicy[]).find((k) => TOUCH_POLICY_BYTE[k] === b);
}

/** Retired key-management slots R1..R20, numbered 1..20 in the user interface. */
export const RETIRED_SLOTS: readonly number[] = Array.from({ length: 20 }, (_, i) => 0x82 + i);

export function isRetiredSlot(slot: number): boolean {
  return slot >= 0x82 && slot <= 0x95;
}
export function slotToUi(slot: number): number {
  return slot - 0x81;
}
export function uiToSlot(n: number): number {
  return 0x81 + n;
}

/** The certificate data object of a key slot. */
export function certificateObjectId(slot: number): number {
  if (isRetiredSlot(slot)) return 0x5fc10d + (slot - 0x82);
  switch (slot) {
    case 0x9a:
      return 0x5fc105;
    case 0x9c:
      return 0x5fc10a;
    case 0x9d:
      return 0x5fc10b;
    case 0x9e:
      return 0x5fc101;
    case 0xf9:
      return 0x5fff01;
    default:
      throw new RangeError(`slot 0x${slot.toString(16)} has no certificate object`);
  }
}

export const ObjectId = {
  CHUID: 0x5fc102,
  CCC: 0x5fc107,
  PRINTED: 0x5fc109,
  ADMIN: 0x5fff00,
} as const;

export const DEFAULT_MGMT_KEY = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8);
export const DEFAULT_PIN = '123456';
export const DEFAULT_PUK = '12345678';
