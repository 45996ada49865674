/**
 * ISO/IEC 7816-4 interindustry numbers both sides of a card link use: the instruction bytes the
 * applets here share, and the status words. Names follow the standard's meanings; an applet adds
 * its own instructions (and its vendor's status words) beside them.
 */

/** Interindustry instructions (the INS byte). */
export const ISO_INS = {
  VERIFY: 0x20,
  CHANGE_REFERENCE: 0x24,
  RESET_RETRY: 0x2c,
  SELECT: 0xa4,
  GET_RESPONSE: 0xc0,
} as const;

/** Status words (SW1 SW2); `63Cx` (x tries left) and `61xx` (more data) carry a count instead. */
export const ISO_SW = {
  OK: 0x9000,
  WRONG_LENGTH: 0x6700,
  SECURITY_STATUS: 0x6982,
  AUTH_BLOCKED: 0x6983,
  DATA_INVALID: 0x6984,
  CONDITIONS: 0x6985,
  NOT_ALLOWED: 0x6986,
  INCORRECT_DATA: 0x6a80,
  FUNC_NOT_SUPPORTED: 0x6a81,
  NOT_FOUND: 0x6a82,
  FILE_FULL: 0x6a84,
  INCORRECT_P1P2: 0x6a86,
  REFERENCE_NOT_FOUND: 0x6a88,
  WRONG_P1P2: 0x6b00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
} as const;
