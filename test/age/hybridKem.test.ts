import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { p256 } from '@noble/curves/nist.js';
import { hex } from '@scure/base';
import { dhkemP256SharedSecret, hpkeBaseContext, hpkeOpenOnce, hpkeSealOnce, KEM_DHKEM_P256_HKDF_SHA256 } from '../../src/age/hpke.ts';
import {
  combine,
  decapsulate,
  deriveKeyPair,
  encapsulate,
  expandHybridSeed,
  MLKEM768_P256,
  MLKEM768_X25519,
  softwareDecapsulator,
} from '../../src/age/hybridKem.ts';
import { encodeTagPqRecipient } from '../../src/age/pqKeys.ts';

const V = JSON.parse(readFileSync(new URL('../fixtures/hpke-pq/vectors.json', import.meta.url), 'utf8'));
const info = hex.decode(V.info);
const pt = hex.decode(V.pt);
const aad0 = hex.decode(V.aad0);

describe('hpke-pq MLKEM768-X25519 (X-Wing) vector through our combiner', () => {
  const e = V.hybrid.find((x: { kem_id: number }) => x.kem_id === 0x647a);

  it('expands the seed to the published public key', () => {
    const k = expandHybridSeed(MLKEM768_X25519, hex.decode(e.skRm));
    const pk = hex.encode(k.publicKey);
    expect(pk).toHaveLength(2 * 1216);
    expect(pk.startsWith(e.pkRm_prefix)).toBe(true);
    expect(pk.endsWith(e.pkRm_suffix)).toBe(true);
  });

  it('encapsulates with the published randomness to the published enc and shared secret, and decapsulates back', async () => {
    const k = expandHybridSeed(MLKEM768_X25519, hex.decode(e.skRm));
    const { enc, sharedSecret } = encapsulate(MLKEM768_X25519, k.publicKey, hex.decode(e.encap_rand));
    const encHex = hex.encode(enc);
    expect(encHex.startsWith(e.enc_prefix) && encHex.endsWith(e.enc_suffix)).toBe(true);
    expect(hex.encode(sharedSecret)).toBe(e.shared_secret);
    const back = await decapsulate(MLKEM768_X25519, enc, softwareDecapsulator(MLKEM768_X25519, k));
    expect(hex.encode(back)).toBe(e.shared_secret);
  });

  it('derives the published key, nonce and first ciphertext from the shared secret', () => {
    const ss = hex.decode(e.shared_secret);
    const { key, nonce } = hpkeBaseContext(MLKEM768_X25519.id, ss, info);
    expect(hex.encode(key)).toBe(e.key);
    expect(hex.encode(nonce)).toBe(e.base_nonce);
    expect(hex.encode(hpkeSealOnce(MLKEM768_X25519.id, ss, info, pt, aad0))).toBe(e.ct0);
    expect(hpkeOpenOnce(MLKEM768_X25519.id, ss, info, hex.decode(e.ct0), aad0)).toEqual(pt);
  });

  it('a different label gives a different shared secret (the label is really hashed)', () => {
    const k = expandHybridSeed(MLKEM768_X25519, hex.decode(e.skRm));
    const { enc } = encapsulate(MLKEM768_X25519, k.publicKey, hex.decode(e.encap_rand));
    const ctT = enc.subarray(1088);
    const ekT = k.publicKey.subarray(1184);
    const ss = hex.decode(e.shared_secret);
    expect(combine({ ...MLKEM768_X25519, label: MLKEM768_P256.label }, new Uint8Array(32), new Uint8Array(32), ctT, ekT)).not.toEqual(ss);
  });
});

describe('hpke-pq DHKEM(P-256) vector through the card-style decapsulation', () => {
  const e = V.dhkem_p256;
  it('x-coordinate ECDH + ExtractAndExpand gives the published shared secret; the key schedule the published ciphertext', () => {
    const enc = hex.decode(e.enc);
    const dh = p256.getSharedSecret(hex.decode(e.skRm), enc, true).subarray(1);
    const ss = dhkemP256SharedSecret(dh, enc, hex.decode(e.pkRm));
    expect(hex.encode(ss)).toBe(e.shared_secret);
    const { key, nonce } = hpkeBaseContext(KEM_DHKEM_P256_HKDF_SHA256, ss, info);
    expect([hex.encode(key), hex.encode(nonce)]).toEqual([e.key, e.base_nonce]);
    expect(hex.encode(hpkeSealOnce(KEM_DHKEM_P256_HKDF_SHA256, ss, info, pt, aad0))).toBe(e.ct0);
  });
});

describe('MLKEM768-P256 key derivation as age ships it', () => {
  it("DeriveKeyPair('age-plugin-tagtest') gives age-plugin-tagtest's fixed age1tagpq1 recipient", () => {
    const t = V.tagtest;
    const { key } = deriveKeyPair(MLKEM768_P256, new TextEncoder().encode(t.ikm));
    const r = encodeTagPqRecipient(key.publicKey);
    expect(r).toHaveLength(t.length);
    expect(r.startsWith(t.prefix)).toBe(true);
    // The suffix carries the Bech32 checksum, which covers every byte of the 1249-byte key.
    expect(r.endsWith(t.suffix)).toBe(true);
  });

  it('round-trips encapsulation with the P-256 half behind an asynchronous oracle', async () => {
    const k = expandHybridSeed(MLKEM768_P256, new Uint8Array(32).fill(7));
    const { enc, sharedSecret } = encapsulate(MLKEM768_P256, k.publicKey);
    expect(enc).toHaveLength(1153);
    let calls = 0;
    const ss = await decapsulate(MLKEM768_P256, enc, {
      decapsulationKey: k.decapsulationKey,
      traditionalPublic: k.publicKey.subarray(1184),
      dh: async (peer) => {
        calls++;
        expect(peer).toHaveLength(65);
        return p256.getSharedSecret(k.traditional, peer, true).subarray(1);
      },
    });
    expect(ss).toEqual(sharedSecret);
    expect(calls).toBe(1);
  });

  it('refuses an invalid ephemeral point before the oracle is asked', async () => {
    const k = expandHybridSeed(MLKEM768_P256, new Uint8Array(32).fill(9));
    const { enc } = encapsulate(MLKEM768_P256, k.publicKey);
    enc[1088] = 0x02; // compressed prefix: not the uncompressed encoding the wire requires
    let calls = 0;
    await expect(
      decapsulate(MLKEM768_P256, enc, { decapsulationKey: k.decapsulationKey, traditionalPublic: k.publicKey.subarray(1184), dh: () => (calls++, new Uint8Array(32)) }),
    ).rejects.toThrow(/P-256/);
    expect(calls).toBe(0);
  });

  it('refuses public keys of the wrong size or with an off-curve point', () => {
    const k = expandHybridSeed(MLKEM768_P256, new Uint8Array(32).fill(1));
    expect(() => encapsulate(MLKEM768_P256, k.publicKey.subarray(1))).toThrow(/1249/);
    const bad = k.publicKey.slice();
    bad[1248] = bad[1248]! ^ 1;
    expect(() => encapsulate(MLKEM768_P256, bad)).toThrow();
  });
});
