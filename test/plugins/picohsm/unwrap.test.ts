/**
 * Decrypting with a key on the (in-process) virtual Pico HSM: files made by typage to the key's
 * native recipients (`age1…` for X25519, `age1tag1…` for P-256) and pinpox-format `picohsm`
 * stanzas open; stanzas for other keys cost no PIN (tags, fingerprints) — except untagged X25519
 * stanzas, which cost one device ECDH each.
 */
import { describe, expect, it } from 'vitest';
import { Decrypter, Encrypter, generateX25519Identity, identityToRecipient, type Identity } from 'age-encryption';
import { p256 } from '@noble/curves/nist.js';
import { VirtualPicoHsm } from '../../../src/sim/picohsm/card.ts';
import { inProcessReaders } from '../../../src/sim/inProcess.ts';
import { ScHsmSession } from '../../../src/tokens/schsm/session.ts';
import { deviceTag, slotWord } from '../../../src/plugins/picohsm/identity.ts';
import { generateAgeKey, identityOf, recipientsOf, type AgeKey } from '../../../src/plugins/picohsm/keys.ts';
import { encodeRecipient, encodeTagRecipient } from '../../../src/plugins/picohsm/recipient.ts';
import { wrapPicoHsm } from '../../../src/plugins/picohsm/stanza.ts';
import { fitsIdentity, parseStanza, unwrapWithKey } from '../../../src/plugins/picohsm/unwrap.ts';

async function setup() {
  const hsm = new VirtualPicoHsm({ port: 0, serial: 'ESPH0000009' });
  await hsm.initialiseWith('648219', '3537363231383830');
  const session = new ScHsmSession(await inProcessReaders({ r: hsm }).connect('r'));
  await session.select();
  await session.verifyPin('648219');
  const p = await generateAgeKey(session, { label: 'p', keyType: 'p256' });
  const x = await generateAgeKey(session, { label: 'x', keyType: 'x25519' });
  const before = session.apduCount;
  return { session, p, x, before };
}

/** A typage identity over unwrapWithKey that counts PIN requests and ECDHs. */
function counting(session: ScHsmSession, key: AgeKey) {
  const n = { pin: 0, ecdh: 0 };
  const identity: Identity = {
    async unwrapFileKey(stanzas) {
      const parsed = stanzas.map((s) => parseStanza({ type: s.args[0]!, args: s.args.slice(1), body: s.body }));
      const ours = parsed.filter((p) => p !== null && fitsIdentity(identityOf(key, deviceTag('ESPH0000009')), p));
      const results = await unwrapWithKey(session, key, ours as NonNullable<(typeof parsed)[number]>[], {
        verifyPin: async () => void n.pin++,
        beforeEcdh: async () => void n.ecdh++,
      });
      return results.find((r) => r !== null) ?? null;
    },
  };
  return { identity, n };
}

describe('unwrapping with a Pico HSM key', () => {
  it('X25519: files typage encrypts to the plain age1 recipient; each untagged X25519 stanza costs an ECDH', async () => {
    const { session, x } = await setup();
    const other = identityToRecipient(await generateX25519Identity());
    const e = new Encrypter();
    e.addRecipient(await other);
    e.addRecipient(recipientsOf(x).recipient);
    const file = await e.encrypt('secret for x25519');
    const { identity, n } = counting(session, x);
    const d = new Decrypter();
    d.addIdentity(identity);
    expect(await d.decrypt(file, 'text')).toBe('secret for x25519');
    expect(n).toEqual({ pin: 1, ecdh: 2 });
  });

  it('P-256: age1tag1 files (typage) and picohsm stanzas open; tags and fingerprints spare the PIN for other keys', async () => {
    const { session, p } = await setup();
    const stranger = p256.getPublicKey(p256.utils.randomSecretKey(), false);
    const e = new Encrypter();
    e.addRecipient(encodeTagRecipient(stranger));
    e.addRecipient(recipientsOf(p).tagRecipient!);
    const file = await e.encrypt('secret for p256tag');
    const { identity, n } = counting(session, p);
    const d = new Decrypter();
    d.addIdentity(identity);
    expect(await d.decrypt(file, 'text')).toBe('secret for p256tag');
    expect(n).toEqual({ pin: 1, ecdh: 1 });

    const fileKey = p256.utils.randomSecretKey().subarray(0, 16);
    const mine = parseStanza(wrapPicoHsm(fileKey, p.publicKey))!;
    const theirs = parseStanza(wrapPicoHsm(fileKey, stranger))!;
    const counts = { pin: 0 };
    expect(await unwrapWithKey(session, p, [theirs], { verifyPin: async () => void counts.pin++ })).toEqual([null]);
    expect(counts.pin).toBe(0);
    expect(await unwrapWithKey(session, p, [theirs, mine], { verifyPin: async () => void counts.pin++ })).toEqual([null, fileKey]);
    expect(counts.pin).toBe(1);
    expect(encodeRecipient(p.publicKey)).toBe(recipientsOf(p).recipient);
  });

  it('the identity says the key type: P-256 identities skip X25519 stanzas without touching the device', async () => {
    const { session, p, before } = await setup();
    const x = parseStanza({ type: 'X25519', args: ['A'.repeat(42) + 'A'], body: new Uint8Array(32) })!;
    expect(x.kind).toBe('x25519');
    expect(fitsIdentity({ slot: 0, keyId: new Uint8Array(0), label: 'p' }, x)).toBe(false);
    expect(fitsIdentity({ slot: slotWord('x25519', 1), keyId: new Uint8Array(0), label: 'x' }, x)).toBe(true);
    expect(await unwrapWithKey(session, p, [x], { verifyPin: async () => undefined })).toEqual([null]);
    expect(session.apduCount).toBe(before);
  });
});
