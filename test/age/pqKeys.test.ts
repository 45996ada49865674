import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { p256 } from '@noble/curves/nist.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { tagPqKey } from '../../src/age/mlkem768p256tagKey.ts';
import {
  classifyPqKey,
  decodeHybridIdentity,
  decodeHybridRecipient,
  decodeTagPqRecipient,
  encodeHybridIdentity,
  encodeTagPqRecipient,
  hybridIdentityToRecipient,
} from '../../src/age/pqKeys.ts';

const tagpq = () => encodeTagPqRecipient(tagPqKey(randomBytes(64), p256.getPublicKey(p256.utils.randomSecretKey())).recipient);

describe('PQ key strings', () => {
  it('derives the same age1pq1 recipient from an AGE-SECRET-KEY-PQ-1 identity as typage', async () => {
    for (let i = 0; i < 3; i++) {
      const id = await generateHybridIdentity();
      const r = hybridIdentityToRecipient(id);
      expect(r).toBe(await identityToRecipient(id));
      expect(r).toHaveLength(1959);
      expect(decodeHybridRecipient(r)).toHaveLength(1216);
      expect(encodeHybridIdentity(decodeHybridIdentity(id))).toBe(id);
      expect(classifyPqKey(`  ${id}\n`)).toEqual({ kind: 'hybrid-identity', recipient: r });
      expect(classifyPqKey(r)).toEqual({ kind: 'hybrid-recipient', recipient: r });
    }
  });

  it('classifies and validates age1tagpq1 recipients', () => {
    const r = tagpq();
    expect(r).toHaveLength(2015);
    expect(decodeTagPqRecipient(r)).toHaveLength(1249);
    expect(classifyPqKey(r)).toEqual({ kind: 'tagpq-recipient', recipient: r });
  });

  it('reports broken PQ strings as invalid without echoing them, and leaves other strings alone', async () => {
    const r = tagpq();
    const id = await generateHybridIdentity();
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'q' ? 'p' : 'q') + s.slice(i + 1);
    const cases: [string, string][] = [
      [flip(r, 500), 'tagpq-recipient'],
      [r.toUpperCase(), 'tagpq-recipient'],
      [r.slice(0, 20) + r.slice(20, 40).toUpperCase() + r.slice(40), 'tagpq-recipient'],
      [r + 'qqqq', 'tagpq-recipient'],
      [r + 'q'.repeat(5000), 'tagpq-recipient'],
      [id.toLowerCase(), 'hybrid-identity'],
      [id.slice(0, -1), 'hybrid-identity'],
      [flip(hybridIdentityToRecipient(id), 100), 'hybrid-recipient'],
    ];
    for (const [s, kind] of cases) {
      const c = classifyPqKey(s)!;
      expect(c.kind).toBe(kind);
      expect('invalid' in c && c.invalid).toMatch(/^invalid /);
      expect(JSON.stringify(c)).not.toContain(s.slice(12, 40));
    }
    for (const other of ['age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq', 'AGE-SECRET-KEY-1QQQ', 'age1tag1qwe0k', 'age1yubikey1q', 'ssh-ed25519 AAAA', '']) {
      expect(classifyPqKey(other)).toBeNull();
    }
  });

  it('never throws on arbitrary input with a PQ prefix', () => {
    fc.assert(
      fc.property(fc.constantFrom('age1pq1', 'age1tagpq1', 'AGE-SECRET-KEY-PQ-1'), fc.string({ maxLength: 300 }), (p, rest) => {
        const c = classifyPqKey(p + rest);
        expect(c).not.toBeNull();
        expect('invalid' in c!).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
