/**
 * The parts of HPKE (RFC 9180) that the `p256tag` recipient type uses, composed from
 * @noble/hashes' HKDF: DHKEM(P-256, HKDF-SHA256) shared-secret derivation from an already
 * computed Diffie-Hellman x-coordinate (so the scalar can stay on a card), and the base-mode key
 * schedule for HKDF-SHA256 + ChaCha20-Poly1305 (the suites of p256tag, mlkem768p256tag and
 * mlkem768x25519), with the single Seal/Open an age stanza needs.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';

const enc = new TextEncoder();
const HPKE_V1 = enc.encode('HPKE-v1');

export const KEM_DHKEM_P256_HKDF_SHA256 = 0x0010;
const KDF_HKDF_SHA256 = 0x0001;
const AEAD_CHACHA20POLY1305 = 0x0003;

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function labeledExtract(suiteId: Uint8Array, salt: Uint8Array | undefined, label: string, ikm: Uint8Array): Uint8Array {
  return extract(sha256, concat(HPKE_V1, suiteId, enc.encode(label), ikm), salt);
}

function labeledExpand(suiteId: Uint8Array, prk: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array {
  const l = Uint8Array.of(length >> 8, length & 0xff);
  return expand(sha256, prk, concat(l, HPKE_V1, suiteId, enc.encode(label), info), length);
}

function kemSuiteId(kem: number): Uint8Array {
  return concat(enc.encode('KEM'), Uint8Array.of(kem >> 8, kem & 0xff));
}

function hpkeSuiteId(kem: number): Uint8Array {
  return concat(
    enc.encode('HPKE'),
    Uint8Array.of(kem >> 8, kem & 0xff, KDF_HKDF_SHA256 >> 8, KDF_HKDF_SHA256 & 0xff, AEAD_CHACHA20POLY1305 >> 8, AEAD_CHACHA20POLY1305 & 0xff),
  );
}

/**
 * DHKEM ExtractAndExpand: `dh` is the 32-byte x-coordinate of the shared point, `encapsulated`
 * and `recipient` the 65-byte uncompressed points (kem_context = enc ‖ pkR).
 */
export function dhkemP256SharedSecret(dh: Uint8Array, encapsulated: Uint8Array, recipient: Uint8Array): Uint8Array {
  const suite = kemSuiteId(KEM_DHKEM_P256_HKDF_SHA256);
  const eaePrk = labeledExtract(suite, undefined, 'eae_prk', dh);
  return labeledExpand(suite, eaePrk, 'shared_secret', concat(encapsulated, recipient), 32);
}

/** Base-mode key schedule: the AEAD key and base nonce for a KEM shared secret and `info`. */
export function hpkeBaseContext(kem: number, sharedSecret: Uint8Array, info: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  const suite = hpkeSuiteId(kem);
  const pskIdHash = labeledExtract(suite, undefined, 'psk_id_hash', new Uint8Array(0));
  const infoHash = labeledExtract(suite, undefined, 'info_hash', info);
  const context = concat(Uint8Array.of(0x00), pskIdHash, infoHash);
  const secret = labeledExtract(suite, sharedSecret, 'secret', new Uint8Array(0));
  return {
    key: labeledExpand(suite, secret, 'key', context, 32),
    nonce: labeledExpand(suite, secret, 'base_nonce', context, 12),
  };
}

/** One base-mode Seal with ChaCha20-Poly1305 (sequence 0, empty aad), as age's HPKE stanzas use it. */
export function hpkeSealOnce(kem: number, sharedSecret: Uint8Array, info: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = new Uint8Array(0)): Uint8Array {
  const { key, nonce } = hpkeBaseContext(kem, sharedSecret, info);
  return chacha20poly1305(key, nonce, aad).encrypt(plaintext);
}

/** The matching Open; null when the AEAD does not open. */
export function hpkeOpenOnce(kem: number, sharedSecret: Uint8Array, info: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array = new Uint8Array(0)): Uint8Array | null {
  const { key, nonce } = hpkeBaseContext(kem, sharedSecret, info);
  try {
    return chacha20poly1305(key, nonce, aad).decrypt(ciphertext);
  } catch {
    return null;
  }
}
