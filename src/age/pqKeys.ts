/**
 * String forms of age's post-quantum keys (C2SP age.md "Native recipient types"):
 *
 *   age1pq1…             hybrid recipient, ek_PQ(1184) ‖ X25519(32)            (1959 chars)
 *   age1tagpq1…          hybrid tag recipient, ek_PQ(1184) ‖ P-256 uncompressed(65) (2015 chars)
 *   AGE-SECRET-KEY-PQ-1… hybrid identity, a 32-byte seed                         (77 chars)
 *
 * Bech32 as age uses it (no 90-character limit; one case throughout; decoding never quotes the
 * input, which may be a secret key). `classifyPqKey` is what the
 * key readers (validate, keys.txt, bw sync) call: it tells these strings apart, checks them fully,
 * and derives the recipient of a PQ identity.
 */
import { bech32 } from '@scure/base';
import { bech32Encode } from './bech32.ts';
import { expandHybridSeed, MLKEM768_P256, MLKEM768_X25519, splitPublicKey } from './hybridKem.ts';

export const HYBRID_RECIPIENT_HRP = 'age1pq';
export const TAGPQ_RECIPIENT_HRP = 'age1tagpq';
export const HYBRID_IDENTITY_HRP = 'AGE-SECRET-KEY-PQ-';

/** Longest string accepted before any decoding (the longest form, age1tagpq, is 2015 chars). */
const MAX_KEY_STRING = 2100;


function decode(s: string): { hrp: string; data: Uint8Array } {
  if (s.length > MAX_KEY_STRING) throw new Error('key string too long');
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) throw new Error('mixed-case Bech32 string');
  let decoded: { prefix: string; words: number[] };
  try {
    decoded = bech32.decode(s as `${string}1${string}`, false);
  } catch {
    // The library's message quotes the input, which may be a secret key.
    throw new Error('not valid Bech32 (bad checksum or characters)');
  }
  // @scure/base reports the prefix in lower case; the case of the whole string was checked above.
  return { hrp: decoded.prefix.toLowerCase(), data: bech32.fromWords(decoded.words) };
}

export function encodeHybridRecipient(pk: Uint8Array): string {
  splitPublicKey(MLKEM768_X25519, pk);
  return bech32Encode(HYBRID_RECIPIENT_HRP, pk);
}

export function encodeTagPqRecipient(pk: Uint8Array): string {
  splitPublicKey(MLKEM768_P256, pk);
  return bech32Encode(TAGPQ_RECIPIENT_HRP, pk);
}

export function encodeHybridIdentity(seed32: Uint8Array): string {
  if (seed32.length !== 32) throw new RangeError('a hybrid identity is a 32-byte seed');
  return bech32Encode(HYBRID_IDENTITY_HRP, seed32).toUpperCase();
}

/** `age1pq1…` → the 1216 public key bytes; throws `invalid recipient` otherwise. */
export function decodeHybridRecipient(s: string): Uint8Array {
  return decodeRecipient(s, HYBRID_RECIPIENT_HRP, MLKEM768_X25519);
}

/** `age1tagpq1…` → the 1249 public key bytes; throws `invalid recipient` otherwise. */
export function decodeTagPqRecipient(s: string): Uint8Array {
  return decodeRecipient(s, TAGPQ_RECIPIENT_HRP, MLKEM768_P256);
}

function decodeRecipient(s: string, hrp: string, kem: typeof MLKEM768_P256): Uint8Array {
  try {
    const d = decode(s);
    if (d.hrp !== hrp) throw new Error('wrong type');
    splitPublicKey(kem, d.data);
    return d.data;
  } catch (cause) {
    throw new Error(`invalid ${hrp}1 recipient`, { cause });
  }
}

/** `AGE-SECRET-KEY-PQ-1…` (upper case, as age writes it) → the 32-byte seed. */
export function decodeHybridIdentity(s: string): Uint8Array {
  try {
    if (s !== s.toUpperCase()) throw new Error('identity must be upper case');
    const d = decode(s);
    if (d.hrp !== HYBRID_IDENTITY_HRP.toLowerCase() || d.data.length !== 32) throw new Error('wrong type');
    return d.data;
  } catch (cause) {
    throw new Error('invalid AGE-SECRET-KEY-PQ-1 identity', { cause });
  }
}

/** The `age1pq1…` recipient of a PQ identity string. */
export function hybridIdentityToRecipient(s: string): string {
  const seed = decodeHybridIdentity(s);
  const { publicKey } = expandHybridSeed(MLKEM768_X25519, seed);
  seed.fill(0);
  return bech32Encode(HYBRID_RECIPIENT_HRP, publicKey);
}

export type PqKeyKind = 'hybrid-recipient' | 'tagpq-recipient' | 'hybrid-identity';

export type PqKeyClass =
  | { kind: PqKeyKind; /** the recipient it stands for (derived for an identity) */ recipient: string }
  | { kind: PqKeyKind; invalid: string };

/**
 * Classifies `age1pq1…`, `age1tagpq1…` and `AGE-SECRET-KEY-PQ-1…` strings: null for anything
 * else; otherwise the kind and either the recipient (validated; derived for an identity) or why
 * it is invalid. Never echoes the input.
 */
export function classifyPqKey(input: string): PqKeyClass | null {
  const s = input.trim();
  const lower = s.toLowerCase();
  let kind: PqKeyKind;
  if (lower.startsWith('age1tagpq1')) kind = 'tagpq-recipient';
  else if (lower.startsWith('age1pq1')) kind = 'hybrid-recipient';
  else if (s.toUpperCase().startsWith('AGE-SECRET-KEY-PQ-1')) kind = 'hybrid-identity';
  else return null;
  try {
    if (kind === 'hybrid-identity') return { kind, recipient: hybridIdentityToRecipient(s) };
    if (s !== lower) throw new Error('recipients are lower case');
    if (kind === 'tagpq-recipient') decodeTagPqRecipient(s);
    else decodeHybridRecipient(s);
    return { kind, recipient: s };
  } catch (e) {
    const why = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : 'invalid';
    const what = kind === 'hybrid-identity' ? 'AGE-SECRET-KEY-PQ-1 identity' : kind === 'tagpq-recipient' ? 'age1tagpq1 recipient' : 'age1pq1 recipient';
    return { kind, invalid: `invalid ${what}: ${why.slice(0, 80)}` };
  }
}
