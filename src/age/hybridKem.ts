/**
 * The hybrid KEMs of draft-ietf-hpke-pq that age uses natively, MLKEM768-X25519 (X-Wing, for
 * `mlkem768x25519`) and MLKEM768-P256 (for `mlkem768p256tag`), composed from @noble's ML-KEM-768,
 * curves and SHA-3:
 *
 *   Encaps: (ss_PQ, ct_PQ) = ML-KEM.Encaps(ek_PQ); ct_T = sk_E·G; ss_T = x(sk_E·ek_T)
 *           ss = SHA3-256(ss_PQ ‖ ss_T ‖ ct_T ‖ ek_T ‖ Label); enc = ct_PQ ‖ ct_T
 *   Decaps: the same with ss_T = ECDH(dk_T, ct_T).
 *
 * The traditional half of decapsulation is an injected oracle, so a P-256 scalar can stay on a
 * card while the ML-KEM half runs in software. A 32-byte hybrid seed expands with SHAKE256: 64
 * bytes of ML-KEM seed d ‖ z, then the traditional key (X25519: 32 bytes as is; P-256: the first
 * 32-byte big-endian candidate in [1, n-1]).
 */
import { p256 } from '@noble/curves/nist.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { sha3_256, shake256 } from '@noble/hashes/sha3.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';

export const MLKEM768_EK = 1184;
export const MLKEM768_CT = 1088;
export const MLKEM768_SEED = 64;

export interface HybridKem {
  name: 'MLKEM768-X25519' | 'MLKEM768-P256';
  /** HPKE KEM id. */
  id: number;
  /** Bytes hashed last into the shared secret. */
  label: Uint8Array;
  /** Size of a traditional public key / ciphertext element. */
  elementSize: number;
  /** Public key size (ek_PQ ‖ ek_T). */
  publicKeySize: number;
  /** Encapsulated key size (ct_PQ ‖ ct_T). */
  encSize: number;
  /** Traditional-half operations. */
  curve: {
    /** Public element of a secret scalar. */
    publicOf(sk: Uint8Array): Uint8Array;
    /** Raw shared secret of a scalar and a peer element; throws on an invalid element. */
    dh(sk: Uint8Array, peer: Uint8Array): Uint8Array;
    /** Throws unless `element` is a valid public element in the wire encoding. */
    check(element: Uint8Array): void;
    /** The first valid secret from a stream of candidates (bytes from the seed expansion). */
    secretFrom(stream: Uint8Array): Uint8Array;
    /** Bytes of seed expansion (and encapsulation randomness) the traditional half consumes at most. */
    seedBytes: number;
    /** Rejects a degenerate shared secret (X25519 all-zero output). */
    checkShared(ss: Uint8Array): void;
  };
}

/** The group order, read on first use (the curve is built when its module first runs). */
const p256N = () => p256.Point.CURVE().n;

function bigEndian(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

export const MLKEM768_P256: HybridKem = {
  name: 'MLKEM768-P256',
  id: 0x0050,
  label: new TextEncoder().encode('MLKEM768-P256'),
  elementSize: 65,
  publicKeySize: MLKEM768_EK + 65,
  encSize: MLKEM768_CT + 65,
  curve: {
    publicOf: (sk) => p256.getPublicKey(sk, false),
    dh(sk, peer) {
      if (peer.length !== 65 || peer[0] !== 4) throw new Error('invalid P-256 element');
      return p256.getSharedSecret(sk, peer, true).subarray(1);
    },
    check(element) {
      if (element.length !== 65 || element[0] !== 4) throw new Error('invalid P-256 element');
      p256.Point.fromBytes(element);
    },
    secretFrom(stream) {
      for (let o = 0; o + 32 <= stream.length; o += 32) {
        const c = stream.subarray(o, o + 32);
        const v = bigEndian(c);
        if (v > 0n && v < p256N()) return c.slice();
      }
      throw new Error('P-256 rejection sampling failed');
    },
    seedBytes: 128,
    checkShared() {},
  },
};

export const MLKEM768_X25519: HybridKem = {
  name: 'MLKEM768-X25519',
  id: 0x647a,
  // X-Wing's label: ASCII \.//^\
  label: Uint8Array.of(0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c),
  elementSize: 32,
  publicKeySize: MLKEM768_EK + 32,
  encSize: MLKEM768_CT + 32,
  curve: {
    publicOf: (sk) => x25519.getPublicKey(sk),
    dh(sk, peer) {
      if (peer.length !== 32) throw new Error('invalid X25519 element');
      return x25519.getSharedSecret(sk, peer);
    },
    check(element) {
      if (element.length !== 32) throw new Error('invalid X25519 element');
    },
    secretFrom: (stream) => stream.slice(0, 32),
    seedBytes: 32,
    checkShared(ss) {
      if (ss.every((b) => b === 0)) throw new Error('X25519 low-order point');
    },
  },
};

/** The combiner: SHA3-256(ss_PQ ‖ ss_T ‖ ct_T ‖ ek_T ‖ Label). */
export function combine(kem: HybridKem, ssPQ: Uint8Array, ssT: Uint8Array, ctT: Uint8Array, ekT: Uint8Array): Uint8Array {
  return sha3_256.create().update(ssPQ).update(ssT).update(ctT).update(ekT).update(kem.label).digest();
}

/** An ML-KEM-768 key pair from its 64-byte FIPS 203 seed d ‖ z. */
export function mlkemFromSeed(seed64: Uint8Array): { encapsulationKey: Uint8Array; decapsulationKey: Uint8Array } {
  if (seed64.length !== MLKEM768_SEED) throw new RangeError('an ML-KEM-768 seed is 64 bytes');
  const { publicKey, secretKey } = ml_kem768.keygen(seed64);
  return { encapsulationKey: publicKey, decapsulationKey: secretKey };
}

export interface ExpandedHybridKey {
  /** The 64-byte ML-KEM seed d ‖ z. */
  mlkemSeed: Uint8Array;
  decapsulationKey: Uint8Array;
  /** Traditional secret scalar. */
  traditional: Uint8Array;
  /** ek_PQ ‖ ek_T. */
  publicKey: Uint8Array;
}

/** Expands a 32-byte hybrid private key (the `AGE-SECRET-KEY-PQ-` payload) as hpke-pq does. */
export function expandHybridSeed(kem: HybridKem, seed32: Uint8Array): ExpandedHybridKey {
  if (seed32.length !== 32) throw new RangeError('a hybrid KEM private key is 32 bytes');
  const stream = shake256(seed32, { dkLen: MLKEM768_SEED + kem.curve.seedBytes });
  const mlkemSeed = stream.slice(0, MLKEM768_SEED);
  const traditional = kem.curve.secretFrom(stream.subarray(MLKEM768_SEED));
  const { encapsulationKey, decapsulationKey } = mlkemFromSeed(mlkemSeed);
  const publicKey = new Uint8Array(kem.publicKeySize);
  publicKey.set(encapsulationKey, 0);
  publicKey.set(kem.curve.publicOf(traditional), MLKEM768_EK);
  stream.fill(0);
  return { mlkemSeed, decapsulationKey, traditional, publicKey };
}

/** Splits and checks a hybrid public key; throws on a wrong size or an invalid half. */
export function splitPublicKey(kem: HybridKem, pk: Uint8Array): { ekPQ: Uint8Array; ekT: Uint8Array } {
  if (pk.length !== kem.publicKeySize) throw new Error(`${kem.name} public key must be ${kem.publicKeySize} bytes`);
  const ekPQ = pk.subarray(0, MLKEM768_EK);
  const ekT = pk.subarray(MLKEM768_EK);
  try {
    kem.curve.check(ekT);
  } catch {
    throw new Error(`invalid ${kem.name} traditional public key`);
  }
  try {
    // FIPS 203 encapsulation key check (every coefficient reduced mod q); noble's encapsulate runs it.
    ml_kem768.encapsulate(ekPQ);
  } catch {
    throw new Error('invalid ML-KEM-768 encapsulation key');
  }
  return { ekPQ, ekT };
}

/**
 * Encapsulates to a hybrid public key. `randomness` (tests only) is 32 bytes of ML-KEM message
 * followed by the traditional ephemeral candidates.
 */
export function encapsulate(kem: HybridKem, pk: Uint8Array, randomness?: Uint8Array): { enc: Uint8Array; sharedSecret: Uint8Array } {
  const { ekPQ, ekT } = splitPublicKey(kem, pk);
  const rnd = randomness ?? randomBytes(32 + kem.curve.seedBytes);
  const { cipherText: ctPQ, sharedSecret: ssPQ } = ml_kem768.encapsulate(ekPQ, rnd.subarray(0, 32));
  const skE = kem.curve.secretFrom(rnd.subarray(32));
  const ctT = kem.curve.publicOf(skE);
  const ssT = kem.curve.dh(skE, ekT);
  kem.curve.checkShared(ssT);
  const enc = new Uint8Array(kem.encSize);
  enc.set(ctPQ, 0);
  enc.set(ctT, MLKEM768_CT);
  return { enc, sharedSecret: combine(kem, ssPQ, ssT, ctT, ekT) };
}

export interface HybridDecapsulator {
  /** ML-KEM-768 decapsulation key (2400 bytes, from the 64-byte seed). */
  decapsulationKey: Uint8Array;
  /** The recipient's traditional public element, in wire encoding (ek_T). */
  traditionalPublic: Uint8Array;
  /** Raw shared secret of the traditional key with the peer element (on a card: ECDH). */
  dh(peer: Uint8Array): Promise<Uint8Array> | Uint8Array;
}

/** Decapsulates `enc`; the traditional element is validated before the oracle sees it. */
export async function decapsulate(kem: HybridKem, enc: Uint8Array, key: HybridDecapsulator): Promise<Uint8Array> {
  if (enc.length !== kem.encSize) throw new Error(`${kem.name} encapsulated key must be ${kem.encSize} bytes`);
  const ctPQ = enc.subarray(0, MLKEM768_CT);
  const ctT = enc.subarray(MLKEM768_CT);
  kem.curve.check(ctT);
  const ssPQ = ml_kem768.decapsulate(ctPQ, key.decapsulationKey);
  const ssT = await key.dh(ctT.slice());
  if (ssT.length !== 32) throw new Error('traditional shared secret must be 32 bytes');
  kem.curve.checkShared(ssT);
  return combine(kem, ssPQ, ssT, ctT, key.traditionalPublic);
}

/** A software decapsulator for an expanded hybrid key. */
export function softwareDecapsulator(kem: HybridKem, key: ExpandedHybridKey): HybridDecapsulator {
  return {
    decapsulationKey: key.decapsulationKey,
    traditionalPublic: key.publicKey.subarray(MLKEM768_EK),
    dh: (peer) => kem.curve.dh(key.traditional, peer),
  };
}

/**
 * DeriveKeyPair(ikm) of hpke-pq: the 32-byte private key SHAKE256(ikm ‖ "HPKE-v1" ‖ "KEM" ‖
 * u16 id ‖ u16 13 ‖ "DeriveKeyPair" ‖ u16 32), then expanded. Deterministic keys for tests and
 * fixed test identities (age-plugin-tagtest).
 */
export function deriveKeyPair(kem: HybridKem, ikm: Uint8Array): { seed: Uint8Array; key: ExpandedHybridKey } {
  const te = new TextEncoder();
  const label = te.encode('DeriveKeyPair');
  const seed = shake256
    .create({ dkLen: 32 })
    .update(ikm)
    .update(te.encode('HPKE-v1'))
    .update(te.encode('KEM'))
    .update(Uint8Array.of(kem.id >> 8, kem.id & 0xff, 0, label.length))
    .update(label)
    .update(Uint8Array.of(0, 32))
    .digest();
  return { seed, key: expandHybridSeed(kem, seed) };
}
