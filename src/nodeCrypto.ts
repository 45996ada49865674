/**
 * node:crypto, loaded on first use: requiring it sets up node's stream modules (milliseconds of a
 * one-shot command's start), which a command that never calls it does not need to pay for.
 */
import { builtin } from './builtin.ts';

let loaded: typeof import('node:crypto') | undefined;

export function nodeCrypto(): typeof import('node:crypto') {
  return (loaded ??= builtin('node:crypto'));
}

/**
 * SHA-256 on node's OpenSSL, for the hashes a start path computes (recipient tags, fingerprints)
 * where node:crypto is loaded anyway: the JS hash would load its own module for one digest.
 */
export function sha256(data: Uint8Array): Uint8Array {
  const d = nodeCrypto().createHash('sha256').update(data).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
}

/** HKDF-Extract with SHA-256 (RFC 5869 §2.2: HMAC-SHA-256 keyed by the salt over the input) on node's OpenSSL. */
export function hkdfExtractSha256(salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  const d = nodeCrypto().createHmac('sha256', salt).update(ikm).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
}
