import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { p256 } from '@noble/curves/nist.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { base64nopad } from '@scure/base';
import { Decrypter, Encrypter, Stanza, type Identity } from 'age-encryption';
import { expandHybridSeed, MLKEM768_P256 } from '../../src/age/hybridKem.ts';
import { mlkem768P256TagMatches, parseMlkem768P256Tag } from '../../src/age/mlkem768p256tag.ts';
import { tagPqIdentity, tagPqKey, unwrapMlkem768P256Tag, wrapMlkem768P256Tag } from '../../src/age/mlkem768p256tagKey.ts';
import { decodeTagPqRecipient, encodeTagPqRecipient } from '../../src/age/pqKeys.ts';

/** A software P-256 key standing in for a card, counting ECDH calls. */
function softCard() {
  const d = p256.utils.randomSecretKey();
  const card = {
    calls: 0,
    publicKey: p256.getPublicKey(d, true),
    async ecdh(peer: Uint8Array) {
      card.calls++;
      return p256.getSharedSecret(d, peer, true).subarray(1);
    },
  };
  return card;
}

/** typage's own MLKEM768-P256 (its @noble/post-quantum), independent of our combiner code. */
async function typageHybridKem(): Promise<{ getPublicKey(s: Uint8Array): Uint8Array; decapsulate(ct: Uint8Array, s: Uint8Array): Uint8Array }> {
  const req = createRequire(createRequire(import.meta.url).resolve('age-encryption'));
  return (await import(pathToFileURL(req.resolve('@noble/post-quantum/hybrid.js')).href)).MLKEM768P256;
}

/** An mlkem768p256tag identity written for the test from RFC 9180 with typage's KEM: no keybridge code. */
function independentIdentity(seed32: Uint8Array, kem: Awaited<ReturnType<typeof typageHybridKem>>): Identity {
  const te = new TextEncoder();
  const info = te.encode('age-encryption.org/mlkem768p256tag');
  const suite = Uint8Array.of(...te.encode('HPKE'), 0x00, 0x50, 0x00, 0x01, 0x00, 0x03);
  const cat = (...a: Uint8Array[]) => Uint8Array.from(a.flatMap((x) => [...x]));
  const lext = (salt: Uint8Array | undefined, label: string, ikm: Uint8Array) => extract(sha256, cat(te.encode('HPKE-v1'), suite, te.encode(label), ikm), salt);
  const lexp = (prk: Uint8Array, label: string, ctx: Uint8Array, n: number) => expand(sha256, prk, cat(Uint8Array.of(0, n), te.encode('HPKE-v1'), suite, te.encode(label), ctx), n);
  return {
    unwrapFileKey(stanzas) {
      for (const s of stanzas) {
        if (s.args[0] !== 'mlkem768p256tag') continue;
        const ss = kem.decapsulate(base64nopad.decode(s.args[2]!), seed32);
        const ctx = cat(Uint8Array.of(0), lext(undefined, 'psk_id_hash', new Uint8Array(0)), lext(undefined, 'info_hash', info));
        const secret = lext(ss, 'secret', new Uint8Array(0));
        try {
          return chacha20poly1305(lexp(secret, 'key', ctx, 32), lexp(secret, 'base_nonce', ctx, 12)).decrypt(s.body);
        } catch {
          continue;
        }
      }
      return null;
    },
  };
}

describe('mlkem768p256tag: typage encrypts, our card-style identity decrypts', () => {
  it('opens files typage wrote to our age1tagpq1 recipient, with one ECDH, and ignores other keys for free', async () => {
    const card = softCard();
    const key = tagPqKey(randomBytes(64), card.publicKey);
    const other = tagPqKey(randomBytes(64), softCard().publicKey);
    const recipient = encodeTagPqRecipient(key.recipient);
    expect(recipient).toMatch(/^age1tagpq1[02-9ac-hj-np-z]{2005}$/);

    const e = new Encrypter();
    e.addRecipient(encodeTagPqRecipient(other.recipient));
    e.addRecipient(recipient);
    const file = await e.encrypt('post-quantum hello');

    const d = new Decrypter();
    d.addIdentity(tagPqIdentity(key, (p) => card.ecdh(p)));
    expect(await d.decrypt(file, 'text')).toBe('post-quantum hello');
    expect(card.calls).toBe(1);

    // A file only for the other key: no ECDH at all (tag filtering needs only the static tag).
    const e2 = new Encrypter();
    e2.addRecipient(encodeTagPqRecipient(other.recipient));
    const d2 = new Decrypter();
    d2.addIdentity(tagPqIdentity(key, (p) => card.ecdh(p)));
    await expect(d2.decrypt(await e2.encrypt('x'), 'text')).rejects.toThrow(/no identity matched/);
    expect(card.calls).toBe(1);
  });
});

describe('mlkem768p256tag: we wrap, typage (and its KEM) decrypt', () => {
  it('our stanzas in a typage-made file open with an identity built only on typage’s MLKEM768-P256', async () => {
    const kem = await typageHybridKem();
    const seed32 = randomBytes(32);
    const ours = expandHybridSeed(MLKEM768_P256, seed32);
    // Seed expansion agrees with typage's library, byte for byte.
    expect(ours.publicKey).toEqual(kem.getPublicKey(seed32));
    const e = new Encrypter();
    e.addRecipient({ wrapFileKey: (fk: Uint8Array) => [((s) => new Stanza([s.type, ...s.args], s.body))(wrapMlkem768P256Tag(fk, ours.publicKey))] });
    const file = await e.encrypt('from keybridge');
    const d = new Decrypter();
    d.addIdentity(independentIdentity(seed32, kem));
    expect(await d.decrypt(file, 'text')).toBe('from keybridge');
  });

  it('the tag uses SHA-256 of the uncompressed point, and our wrap round-trips through our unwrap', async () => {
    const card = softCard();
    const key = tagPqKey(randomBytes(64), card.publicKey);
    const fk = randomBytes(16);
    const st = wrapMlkem768P256Tag(fk, decodeTagPqRecipient(encodeTagPqRecipient(key.recipient)));
    const parsed = parseMlkem768P256Tag(st);
    expect(parsed && 'ok' in parsed).toBe(true);
    const ok = (parsed as { ok: Parameters<typeof mlkem768P256TagMatches>[0] }).ok;
    expect(mlkem768P256TagMatches(ok, key.staticTag)).toBe(true);
    expect(mlkem768P256TagMatches(ok, sha256(card.publicKey).subarray(0, 4))).toBe(false);
    expect(await unwrapMlkem768P256Tag(ok, key, (p) => card.ecdh(p))).toEqual(fk);
    // A different ML-KEM seed with the same card key: implicit rejection, the AEAD does not open.
    const wrongPq = tagPqKey(randomBytes(64), card.publicKey);
    expect(await unwrapMlkem768P256Tag(ok, wrongPq, (p) => card.ecdh(p))).toBeNull();
  });
});

describe('mlkem768p256tag stanza parsing', () => {
  const card = softCard();
  const key = tagPqKey(randomBytes(64), card.publicKey);
  const good = wrapMlkem768P256Tag(randomBytes(16), key.recipient);

  it('ignores other types and rejects every malformed field', () => {
    expect(parseMlkem768P256Tag({ ...good, type: 'p256tag' })).toBeNull();
    expect(parseMlkem768P256Tag({ ...good, type: 'MLKEM768P256TAG' })).toBeNull();
    const bad = [
      { ...good, args: [good.args[0]!] },
      { ...good, args: [...good.args, 'x'] },
      { ...good, args: ['AAAA', good.args[1]!] },
      { ...good, args: [good.args[0]!, good.args[1]!.slice(0, -4)] },
      { ...good, args: [good.args[0]!, good.args[1]!.slice(0, -1) + 'B'] },
      { ...good, body: good.body.subarray(0, 31) },
      { ...good, body: new Uint8Array(48) },
    ];
    for (const s of bad) expect(parseMlkem768P256Tag(s)).toHaveProperty('malformed');
  });

  it('rejects a malformed stanza in typage instead of skipping it', async () => {
    const id = tagPqIdentity(key, (p) => card.ecdh(p));
    await expect(id.unwrapFileKey([new Stanza(['mlkem768p256tag', good.args[0]!], good.body)])).rejects.toThrow(/2 arguments/);
  });
});
