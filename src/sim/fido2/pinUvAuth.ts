/**
 * The authenticator side of the PIN/UV auth protocols one and two (CTAP 2.1 §6.5.6, §6.5.7):
 * a key agreement key regenerated at power-up and after a wrong PIN, decapsulation of the
 * platform's COSE key into the shared secret, and encrypt / decrypt / verify with it.
 */
import { cbc } from '@noble/ciphers/aes.js';
import { p256 } from '@noble/curves/nist.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes as concat } from '@noble/hashes/utils.js';
import { randomBytes } from 'node:crypto';

export class CtapStatusError extends Error {
  constructor(
    readonly status: number,
    message = `CTAP status 0x${status.toString(16)}`,
  ) {
    super(message);
    this.name = 'CtapStatusError';
  }
}

/** CTAP2 status codes the virtual authenticator returns. */
export const ST = {
  OK: 0x00,
  INVALID_COMMAND: 0x01,
  INVALID_PARAMETER: 0x02,
  INVALID_LENGTH: 0x03,
  CBOR_UNEXPECTED_TYPE: 0x11,
  INVALID_CBOR: 0x12,
  MISSING_PARAMETER: 0x14,
  LIMIT_EXCEEDED: 0x15,
  CREDENTIAL_EXCLUDED: 0x19,
  UNSUPPORTED_ALGORITHM: 0x26,
  OPERATION_DENIED: 0x27,
  UNSUPPORTED_OPTION: 0x2b,
  INVALID_OPTION: 0x2c,
  KEEPALIVE_CANCEL: 0x2d,
  NO_CREDENTIALS: 0x2e,
  USER_ACTION_TIMEOUT: 0x2f,
  NOT_ALLOWED: 0x30,
  PIN_INVALID: 0x31,
  PIN_BLOCKED: 0x32,
  PIN_AUTH_INVALID: 0x33,
  PIN_AUTH_BLOCKED: 0x34,
  PIN_NOT_SET: 0x35,
  PUAT_REQUIRED: 0x36,
  PIN_POLICY_VIOLATION: 0x37,
  REQUEST_TOO_LARGE: 0x39,
  INVALID_SUBCOMMAND: 0x3e,
  UNAUTHORIZED_PERMISSION: 0x40,
} as const;

const ZERO_IV = new Uint8Array(16);

export class AuthenticatorPinProtocol {
  private secretKey!: Uint8Array;

  constructor(readonly version: 1 | 2) {
    this.regenerate();
  }

  regenerate(): void {
    this.secretKey = p256.utils.randomSecretKey();
  }

  /** The key agreement key as a COSE_Key (EC2, P-256, alg ECDH-ES+HKDF-256). */
  getPublicKey(): Map<number, unknown> {
    const pub = p256.getPublicKey(this.secretKey, false);
    return new Map<number, unknown>([
      [1, 2],
      [3, -25],
      [-1, 1],
      [-2, pub.slice(1, 33)],
      [-3, pub.slice(33, 65)],
    ]);
  }

  /** ECDH with the platform key, then the protocol's KDF. Bad keys are INVALID_PARAMETER. */
  decapsulate(peer: unknown): Uint8Array {
    if (!(peer instanceof Map)) throw new CtapStatusError(ST.INVALID_PARAMETER, 'keyAgreement is not a COSE key');
    const x = peer.get(-2);
    const y = peer.get(-3);
    if (peer.get(1) !== 2 || peer.get(-1) !== 1 || !(x instanceof Uint8Array) || !(y instanceof Uint8Array) || x.length !== 32 || y.length !== 32) {
      throw new CtapStatusError(ST.INVALID_PARAMETER, 'keyAgreement is not a P-256 COSE key');
    }
    const point = new Uint8Array(65);
    point[0] = 4;
    point.set(x, 1);
    point.set(y, 33);
    let z: Uint8Array;
    try {
      z = p256.getSharedSecret(this.secretKey, point).slice(1);
    } catch {
      throw new CtapStatusError(ST.INVALID_PARAMETER, 'keyAgreement point is not on the curve');
    }
    if (this.version === 1) return sha256(z);
    const salt = new Uint8Array(32);
    const hmacKey = hkdf(sha256, z, salt, new TextEncoder().encode('CTAP2 HMAC key'), 32);
    const aesKey = hkdf(sha256, z, salt, new TextEncoder().encode('CTAP2 AES key'), 32);
    return concat(hmacKey, aesKey);
  }

  encrypt(shared: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this.version === 1) return cbc(shared, ZERO_IV, { disablePadding: true }).encrypt(plaintext);
    const iv = new Uint8Array(randomBytes(16));
    return concat(iv, cbc(shared.subarray(32), iv, { disablePadding: true }).encrypt(plaintext));
  }

  decrypt(shared: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this.version === 1) {
      if (ciphertext.length === 0 || ciphertext.length % 16) throw new CtapStatusError(ST.INVALID_LENGTH, 'ciphertext is not whole AES blocks');
      return cbc(shared, ZERO_IV, { disablePadding: true }).decrypt(ciphertext);
    }
    if (ciphertext.length < 32 || ciphertext.length % 16) throw new CtapStatusError(ST.INVALID_LENGTH, 'ciphertext is not IV + whole AES blocks');
    return cbc(shared.subarray(32), ciphertext.subarray(0, 16), { disablePadding: true }).decrypt(ciphertext.subarray(16));
  }

  /** Checks `signature` over `message` with a shared secret or a PIN token. */
  verify(key: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    const mac = hmac(sha256, this.version === 2 ? key.subarray(0, 32) : key, message);
    const expected = this.version === 1 ? mac.subarray(0, 16) : mac;
    return signature.length === expected.length && timingSafeEqual(signature, expected);
  }
}

function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
