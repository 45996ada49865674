import { describe, expect, it } from 'vitest';
import { p256 } from '@noble/curves/nist.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { tagPqKey } from '../../src/age/mlkem768p256tagKey.ts';
import { encodeTagPqRecipient } from '../../src/age/pqKeys.ts';
import { secretKeyToRecipient, toRecipient } from '../../src/repo/keyString.ts';

describe('key strings in secrets repos: post-quantum forms', () => {
  it('age1pq1 and age1tagpq1 recipients are recipients as written; an AGE-SECRET-KEY-PQ-1 key stands for its age1pq1 recipient', async () => {
    const id = await generateHybridIdentity();
    const pq = await identityToRecipient(id);
    const tagpq = encodeTagPqRecipient(tagPqKey(randomBytes(64), p256.getPublicKey(p256.utils.randomSecretKey())).recipient);
    expect(toRecipient(pq)).toBe(pq);
    expect(toRecipient(` ${tagpq}\n`)).toBe(tagpq);
    expect(await secretKeyToRecipient(id)).toBe(pq);
    expect(await secretKeyToRecipient(id.slice(0, -2) + 'QQ')).toBeNull();
  });
});
