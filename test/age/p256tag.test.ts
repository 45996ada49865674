import { describe, expect, it } from 'vitest';
import { p256 } from '@noble/curves/nist.js';
import { hex } from '@scure/base';
import { Decrypter, Encrypter } from 'age-encryption';
import { parseP256Tag, p256TagMatches, unwrapP256Tag } from '../../src/age/p256tag.ts';
import { encodeTagRecipient } from '../../src/plugins/yubikey/recipient.ts';

// typage's TagRecipient is an independent implementation of the p256tag encryption side: files it
// makes must open with our card-style decapsulation (ECDH supplied as a function).
describe('p256tag decapsulation against typage', () => {
  it('opens stanzas typage wrote to age1tag recipients, and only for the right key', async () => {
    const d = p256.utils.randomSecretKey();
    const pk = p256.getPublicKey(d, true);
    const other = p256.getPublicKey(p256.utils.randomSecretKey(), true);
    const e = new Encrypter();
    e.addRecipient(encodeTagRecipient(pk));
    const fileKeys: Uint8Array[] = [];
    const ct = await e.encrypt('hello p256tag');

    let ecdhCalls = 0;
    const identity = {
      async unwrapFileKey(stanzas: { args: string[]; body: Uint8Array }[]) {
        for (const s of stanzas) {
          const parsed = parseP256Tag(s.args[0]!, s.args.slice(1), s.body);
          if (!parsed) continue;
          expect(p256TagMatches(parsed, other)).toBe(false);
          if (!p256TagMatches(parsed, pk)) continue;
          const key = await unwrapP256Tag(parsed, pk, async (peer) => {
            ecdhCalls++;
            return p256.getSharedSecret(d, peer, true).subarray(1);
          });
          if (key) fileKeys.push(key);
          return key;
        }
        return null;
      },
    };
    const dec = new Decrypter();
    dec.addIdentity(identity);
    expect(await dec.decrypt(ct, 'text')).toBe('hello p256tag');
    expect(ecdhCalls).toBe(1);
    expect(fileKeys[0]).toHaveLength(16);
  });

  it('rejects malformed p256tag stanzas', () => {
    const enc = hex.encode(p256.getPublicKey(p256.utils.randomSecretKey(), false));
    const b64 = Buffer.from(enc, 'hex').toString('base64').replace(/=+$/, '');
    expect(parseP256Tag('p256tag', ['AAAAAA', b64], new Uint8Array(32))).not.toBeNull();
    expect(parseP256Tag('p256tag', ['AAAAAA', b64], new Uint8Array(31))).toBeNull();
    expect(parseP256Tag('p256tag', ['AAAAAA'], new Uint8Array(32))).toBeNull();
    expect(parseP256Tag('p256tag', ['AAAA', b64], new Uint8Array(32))).toBeNull();
    expect(parseP256Tag('piv-p256', ['AAAAAA', b64], new Uint8Array(32))).toBeNull();
  });
});
