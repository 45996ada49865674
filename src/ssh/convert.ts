/**
 * Ed25519 → age conversions (ssh-to-age): public keys to X25519 recipients (`age1…`) and
 * private keys to X25519 identities (`AGE-SECRET-KEY-1…`), byte-exact with Mic92/ssh-to-age.
 * Other modules (bitwarden/, repo/) call the single-key functions; line handling is in
 * lines.ts and private key containers in privateKey.ts.
 */
import { openssl } from '../openssl.ts';
import { bech32 } from '@scure/base';
import { excerpt } from '../text/excerpt.ts';
import { KeyConversionError } from './errors.ts';
import { edwardsToMontgomeryBatch } from './montgomery.ts';
import { WireReader } from './wire.ts';

export { KeyConversionError } from './errors.ts';

const INVALID_POINT = 'cannot convert ed25519 public key to curve25519: invalid point encoding';

/** Bech32 (not Bech32m) `age1…` recipient of a 32-byte X25519 public key. */
export function x25519ToAgeRecipient(u: Uint8Array): string {
  return bech32.encode('age', bech32.toWords(u), 90);
}

/** age recipient (`age1…`) of a 32-byte Ed25519 public key; throws on an invalid point. */
export function ed25519PublicKeyToAgeRecipient(pub: Uint8Array): string {
  if (pub.length !== 32) {
    throw new KeyConversionError(`ed25519 public key must be 32 bytes, got ${pub.length}`, 'MALFORMED_PUBLIC_KEY');
  }
  const [u] = edwardsToMontgomeryBatch([pub]);
  if (!u) throw new KeyConversionError(INVALID_POINT, 'INVALID_POINT');
  return x25519ToAgeRecipient(u);
}

/**
 * age recipients of many 32-byte Ed25519 public keys, in order; `null` marks an invalid point.
 * Much faster per key than calling ed25519PublicKeyToAgeRecipient in a loop.
 */
export function ed25519PublicKeysToAgeRecipients(pubs: readonly Uint8Array[]): (string | null)[] {
  return edwardsToMontgomeryBatch(pubs).map((u) => (u ? x25519ToAgeRecipient(u) : null));
}

/**
 * The X25519 scalar ssh-to-age derives from a 32-byte Ed25519 seed: the first half of
 * SHA-512(seed), deliberately NOT clamped (age clamps when it uses the key).
 */
export function ed25519SeedToX25519Scalar(seed: Uint8Array): Uint8Array {
  if (seed.length !== 32) throw new KeyConversionError(`ed25519 seed must be 32 bytes, got ${seed.length}`, 'MALFORMED_PRIVATE_KEY');
  const digest = openssl().sha512(seed);
  try {
    return Uint8Array.from(digest.subarray(0, 32));
  } finally {
    digest.fill(0);
  }
}

/** `AGE-SECRET-KEY-1…` identity of a 32-byte Ed25519 seed (unclamped, as ssh-to-age). */
export function ed25519SeedToAgeIdentity(seed: Uint8Array): string {
  const scalar = ed25519SeedToX25519Scalar(seed);
  try {
    return bech32.encode('age-secret-key-', bech32.toWords(scalar), 90).toUpperCase();
  } finally {
    scalar.fill(0);
  }
}

/** Key type named inside an SSH public key blob (the first length-prefixed string). */
export function sshBlobKeyType(blob: Uint8Array): string {
  const r = new WireReader(blob, (what) => new KeyConversionError(`ssh public key ${what}`, 'MALFORMED_PUBLIC_KEY'));
  return r.text('key type');
}

/** The 32-byte Ed25519 key inside an OpenSSH `ssh-ed25519` wire blob. */
export function ed25519FromSshBlob(blob: Uint8Array): Uint8Array {
  const r = new WireReader(blob, (what) => new KeyConversionError(`ssh public key blob: ${what}`, 'MALFORMED_PUBLIC_KEY'));
  const type = r.text('key type');
  if (type !== 'ssh-ed25519') {
    throw new KeyConversionError(`got ${excerpt(type)} key type, but only ed25519 keys are supported`, 'UNSUPPORTED_KEY_TYPE');
  }
  const key = r.string('ed25519 key');
  if (key.length !== 32) throw new KeyConversionError(`invalid size ${key.length} for an ed25519 public key (expected 32)`, 'MALFORMED_PUBLIC_KEY');
  if (r.remaining !== 0) throw new KeyConversionError('trailing data after the ed25519 public key', 'MALFORMED_PUBLIC_KEY');
  return key;
}
