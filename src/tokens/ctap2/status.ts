/** CTAP2 status codes (CTAP 2.1 §8.2 "Status codes"), by value. */
export const CTAP_STATUS: Readonly<Record<number, string>> = {
  0x00: 'SUCCESS',
  0x01: 'INVALID_COMMAND',
  0x02: 'INVALID_PARAMETER',
  0x03: 'INVALID_LENGTH',
  0x04: 'INVALID_SEQ',
  0x05: 'TIMEOUT',
  0x06: 'CHANNEL_BUSY',
  0x0a: 'LOCK_REQUIRED',
  0x0b: 'INVALID_CHANNEL',
  0x11: 'CBOR_UNEXPECTED_TYPE',
  0x12: 'INVALID_CBOR',
  0x14: 'MISSING_PARAMETER',
  0x15: 'LIMIT_EXCEEDED',
  0x17: 'FP_DATABASE_FULL',
  0x18: 'LARGE_BLOB_STORAGE_FULL',
  0x19: 'CREDENTIAL_EXCLUDED',
  0x21: 'PROCESSING',
  0x22: 'INVALID_CREDENTIAL',
  0x23: 'USER_ACTION_PENDING',
  0x24: 'OPERATION_PENDING',
  0x25: 'NO_OPERATIONS',
  0x26: 'UNSUPPORTED_ALGORITHM',
  0x27: 'OPERATION_DENIED',
  0x28: 'KEY_STORE_FULL',
  0x2b: 'UNSUPPORTED_OPTION',
  0x2c: 'INVALID_OPTION',
  0x2d: 'KEEPALIVE_CANCEL',
  0x2e: 'NO_CREDENTIALS',
  0x2f: 'USER_ACTION_TIMEOUT',
  0x30: 'NOT_ALLOWED',
  0x31: 'PIN_INVALID',
  0x32: 'PIN_BLOCKED',
  0x33: 'PIN_AUTH_INVALID',
  0x34: 'PIN_AUTH_BLOCKED',
  0x35: 'PIN_NOT_SET',
  0x36: 'PUAT_REQUIRED',
  0x37: 'PIN_POLICY_VIOLATION',
  0x38: 'PIN_TOKEN_EXPIRED',
  0x39: 'REQUEST_TOO_LARGE',
  0x3a: 'ACTION_TIMEOUT',
  0x3b: 'UP_REQUIRED',
  0x3c: 'UV_BLOCKED',
  0x3d: 'INTEGRITY_FAILURE',
  0x3e: 'INVALID_SUBCOMMAND',
  0x3f: 'UV_INVALID',
  0x40: 'UNAUTHORIZED_PERMISSION',
  0x7f: 'OTHER',
};

export function ctapStatusName(status: number): string {
  const name = CTAP_STATUS[status];
  if (name) return name;
  if (status >= 0xe0 && status <= 0xef) return `EXTENSION_${status.toString(16).toUpperCase()}`;
  if (status >= 0xf0) return `VENDOR_${status.toString(16).toUpperCase()}`;
  return `0x${status.toString(16).padStart(2, '0')}`;
}

/** PIN/UV auth token permissions (CTAP 2.1 §6.5.5.7: `mc` and `ga`). */
export const PERMISSION = { MAKE_CREDENTIAL: 0x01, GET_ASSERTION: 0x02 } as const;
