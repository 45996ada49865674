/**
 * SmartCard-HSM constants (as the Pico HSM implements them): the application id, instructions,
 * status words, device options, file-identifier prefixes and algorithm ids.
 */
import { ISO_INS, ISO_SW } from '../../transport/iso7816.ts';

export const SCHSM_AID = Uint8Array.of(0xe8, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x81, 0xc3, 0x1f, 0x02, 0x01);

export const Ins = {
  ...ISO_INS,
  GENERATE_KEY_PAIR: 0x46,
  ENUMERATE_OBJECTS: 0x58,
  DECIPHER: 0x62,
  READ_BINARY_ODD: 0xb1,
  UPDATE_EF: 0xd7,
  DELETE_FILE: 0xe4,
} as const;

/** ISO 7816-4's status words, and the Pico HSM's answer when the button was not pressed in time. */
export const Sw = { ...ISO_SW, BUTTON_TIMEOUT: 0x6600 } as const;

export const USER_PIN = 0x81;
export const SO_PIN = 0x88;
export const ALGO_EC_DH = 0x80;

/** Device options (FCI tag 85, first two bytes). */
export const Option = { RESET_RETRY_COUNTER: 0x0001, TRANSPORT_PIN: 0x0002, BUTTON: 0x0100 } as const;

/** High byte of a file identifier; the low byte is the key id. */
/** File id prefixes (sc_hsm.h); PROTECTED_DATA reads need the PIN, PUBLIC_DATA reads do not. */
export const Prefix = { PRKD: 0xc4, CD: 0xc8, DCOD: 0xc9, KEY: 0xcc, PROTECTED_DATA: 0xcd, EE_CERTIFICATE: 0xce, PUBLIC_DATA: 0xcf } as const;

export const EF_DEVICE_CERTIFICATE = 0x2f02;

/** The key the device makes for itself at initialisation (device authentication); never an age key. */
export const DEVICE_KEY_ID = 0;

export const PIN_MIN = 6;
export const PIN_MAX = 16;
