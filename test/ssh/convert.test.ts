import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bech32 } from '@scure/base';
import {
  ed25519FromSshBlob,
  ed25519PublicKeyToAgeRecipient,
  ed25519PublicKeysToAgeRecipients,
  ed25519SeedToAgeIdentity,
  sshPublicKeyToAgeRecipient,
  KeyConversionError,
} from '../../src/index.ts';
import { D, edwardsToMontgomeryBatch } from '../../src/ssh/montgomery.ts';
import { quadraticResidueBackend, selectQuadraticResidueBackend } from '../../src/ssh/quadraticResidue.ts';
import { parseEd25519PrivateKey } from '../../src/ssh/privateKey.ts';
import { EDGE_CASES, le, referenceMontgomery } from '../helpers/montgomeryModel.ts';

const FIXTURES = new URL('../fixtures/ssh-to-age/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');
describe('known-answer vectors (reference README / test assets)', () => {
  it('public key of id_ed25519.pub', () => {
    expect(sshPublicKeyToAgeRecipient(fixture('id_ed25519.pub'))).toBe('age17044m9wgakla6pzftf4srtl3h5mcsr85jysgt5fg23zpnta8sfdqhzn452');
  });
  it('public key of id_ed25519_passphrase.pub (trailing space)', () => {
    expect(sshPublicKeyToAgeRecipient(fixture('id_ed25519_passphrase.pub'))).toBe(
      'age1pa3t6c94xl4z6k02rt0lw2za7e7tdjsse46xjh8y7tluy59qu5tqaqgauq',
    );
  });
  it('unclamped secret key of id_ed25519', () => {
    const { seed } = parseEd25519PrivateKey(fixture('id_ed25519'));
    const identity = ed25519SeedToAgeIdentity(seed);
    expect(identity).toBe('AGE-SECRET-KEY-1K3VN4N03PTHJWSJSCCMQCN33RY5FSKQPJ4KRRTG3JMQUYE0TUSEQEDH6V8');
    expect(identity).not.toBe('AGE-SECRET-KEY-1KPVN4N03PTHJWSJSCCMQCN33RY5FSKQPJ4KRRTG3JMQUYE0TU3EQRHV8XC');
    expect(Buffer.from(bech32.fromWords(bech32.decode(identity.toLowerCase() as `${string}1${string}`, 90).words)).toString('hex')).toBe(
      'b4593acdf10aef274250c6360c4e311928985801956c31ad1196c1c265ebe432',
    );
  });
  it('secret key of id_ed25519_passphrase (aes256-ctr, passphrase "test")', () => {
    const { seed } = parseEd25519PrivateKey(fixture('id_ed25519_passphrase'), Buffer.from('test'));
    expect(ed25519SeedToAgeIdentity(seed)).toBe('AGE-SECRET-KEY-1EJQ0DZ679RZ4MF6KDC8L8F327SHUULYD5XP53C08ZHYT0KQLNWJQHG7X8P');
  });
  it('recipient and identity strings have the documented lengths', () => {
    expect(ed25519PublicKeyToAgeRecipient(ed25519.getPublicKey(new Uint8Array(32)))).toHaveLength(62);
    expect(ed25519SeedToAgeIdentity(new Uint8Array(32))).toHaveLength(74);
  });
});

describe('Ed25519 → Montgomery with the reference acceptance rules', () => {
  for (const [name, pub] of EDGE_CASES) {
    it(name, () => {
      const u = edwardsToMontgomeryBatch([pub])[0];
      expect(u).toEqual(referenceMontgomery(pub));
      // Go's SetBytes accepts every one of these except y = 2.
      if (name.startsWith('y = 2')) expect(u).toBeNull();
      else if (!name.startsWith('all ones')) expect(u).not.toBeNull();
    });
  }

  it('y = 2 is rejected and the identity maps to u = 0 like Go', () => {
    expect(edwardsToMontgomeryBatch([le(2n)])[0]).toBeNull();
    expect(edwardsToMontgomeryBatch([le(1n)])[0]).toEqual(new Uint8Array(32));
    expect(() => ed25519PublicKeyToAgeRecipient(le(2n))).toThrow(/invalid point encoding/);
    try {
      ed25519PublicKeyToAgeRecipient(le(2n));
    } catch (err) {
      expect(err).toBeInstanceOf(KeyConversionError);
      expect((err as KeyConversionError).code).toBe('INVALID_POINT');
    }
  });

  it('the written-out constant d is edwards25519\'s', () => {
    expect(D).toBe(ed25519.Point.CURVE().d);
  });

  it('uses the OpenSSL exponentiation here', () => {
    expect(quadraticResidueBackend()).toBe('openssl');
  });

  it('random bytes (about half invalid) agree with the model, one by one and batched, on both backends', () => {
    for (const backend of ['openssl', 'noble'] as const) {
      expect(selectQuadraticResidueBackend(backend)).toBe(backend);
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 8 }), (pubs) => {
          const batch = edwardsToMontgomeryBatch(pubs);
          pubs.forEach((pub, i) => {
            const expected = referenceMontgomery(pub);
            expect(batch[i]).toEqual(expected);
            expect(edwardsToMontgomeryBatch([pub])[0]).toEqual(expected);
          });
        }),
        { numRuns: backend === 'noble' ? 40 : 200 },
      );
    }
    selectQuadraticResidueBackend('openssl');
  });

  it('real keys agree with noble toMontgomery', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        const pub = ed25519.getPublicKey(seed);
        expect(ed25519PublicKeysToAgeRecipients([pub])[0]).toBe(bech32.encode('age', bech32.toWords(ed25519.utils.toMontgomery(pub)), 90));
      }),
      { numRuns: 100 },
    );
  });
});

describe('ed25519FromSshBlob', () => {
  const blob = Buffer.from(fixture('id_ed25519.pub').split(' ')[1]!, 'base64');
  it('extracts the key', () => {
    expect(ed25519FromSshBlob(blob)).toHaveLength(32);
  });
  it('rejects truncated and padded blobs and other types', () => {
    expect(() => ed25519FromSshBlob(blob.subarray(0, 40))).toThrow(/truncated/);
    expect(() => ed25519FromSshBlob(Buffer.concat([blob, Buffer.from([0])]))).toThrow(/trailing data/);
    const rsa = Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from('ssh-rsa'), Buffer.from([0, 0, 0, 0])]);
    expect(() => ed25519FromSshBlob(rsa)).toThrow(/got ssh-rsa key type, but only ed25519 keys are supported/);
  });
});
