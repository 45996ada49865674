/**
 * The platform side of the PIN/UV auth protocols (CTAP 2.1 §6.5.6 one, §6.5.7 two): a fresh
 * P-256 key per key agreement, the shared secret from the authenticator's key, and
 * encrypt / decrypt / authenticate with it.
 */
import { cbc } from '@noble/ciphers/aes.js';
import { p256 } from '@noble/curves/nist.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes } from '@noble/hashes/utils.js';
import { Ctap2Error } from './errors.ts';

export type PinProtocolVersion = 1 | 2;

export interface Encapsulation {
  /** The platform's COSE_Key to send as keyAgreement. */
  readonly keyAgreement: Map<number, unknown>;
  readonly sharedSecret: Uint8Array;
}

export class PinProtocol {
  constructor(readonly version: PinProtocolVersion) {}

  /** ECDH with the authenticator's key agreement key (a COSE_Key map). */
  encapsulate(peer: unknown): Encapsulation {
    if (!(peer instanceof Map)) throw new Ctap2Error('DEVICE', 'the security key sent no key agreement key');
    const x = peer.get(-2);
    const y = peer.get(-3);
    if (peer.get(1) !== 2 || peer.get(-1) !== 1 || !(x instanceof Uint8Array) || !(y instanceof Uint8Array) || x.length !== 32 || y.length !== 32) {
      throw new Ctap2Error('DEVICE', 'the security key sent a key agreement key that is not P-256');
    }
    const secret = p256.utils.randomSecretKey();
    const pub = p256.getPublicKey(secret, false);
    let z: Uint8Array;
    try {
      z = p256.getSharedSecret(secret, concatBytes(new Uint8Array([4]), x, y)).slice(1);
    } catch {
      throw new Ctap2Error('DEVICE', 'the security key sent an invalid key agreement point');
    }
    const keyAgreement = new Map<number, unknown>([
      [1, 2],
      [3, -25],
      [-1, 1],
      [-2, pub.slice(1, 33)],
      [-3, pub.slice(33)],
    ]);
    return { keyAgreement, sharedSecret: this.kdf(z) };
  }

  private kdf(z: Uint8Array): Uint8Array {
    if (this.version === 1) return sha256(z);
    const salt = new Uint8Array(32);
    const enc = new TextEncoder();
    return concatBytes(hkdf(sha256, z, salt, enc.encode('CTAP2 HMAC key'), 32), hkdf(sha256, z, salt, enc.encode('CTAP2 AES key'), 32));
  }

  encrypt(shared: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this.version === 1) return cbc(shared, new Uint8Array(16), { disablePadding: true }).encrypt(plaintext);
    const iv = randomBytes(16);
    return concatBytes(iv, cbc(shared.subarray(32), iv, { disablePadding: true }).encrypt(plaintext));
  }

  decrypt(shared: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    const ivLen = this.version === 1 ? 0 : 16;
    if (ciphertext.length < ivLen + 16 || (ciphertext.length - ivLen) % 16) throw new Ctap2Error('DEVICE', 'the security key sent a ciphertext that is not whole AES blocks');
    if (this.version === 1) return cbc(shared, new Uint8Array(16), { disablePadding: true }).decrypt(ciphertext);
    return cbc(shared.subarray(32), ciphertext.subarray(0, 16), { disablePadding: true }).decrypt(ciphertext.subarray(16));
  }

  /** pinUvAuthParam over `message` with a shared secret or a PIN/UV auth token. */
  authenticate(key: Uint8Array, message: Uint8Array): Uint8Array {
    if (this.version === 1) return hmac(sha256, key, message).subarray(0, 16);
    return hmac(sha256, key.subarray(0, 32), message);
  }
}
