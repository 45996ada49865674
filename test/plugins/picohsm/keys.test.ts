/**
 * Age keys on a (virtual, in-process) Pico HSM: generation writes what OpenSC and pinpox look keys
 * up by, listing tells ours from others', identities find their key by label, then by id, and
 * only of the type they name; devices are found among readers and named by serial and tag.
 */
import { describe, expect, it } from 'vitest';
import { VirtualPicoHsm } from '../../../src/sim/picohsm/card.ts';
import { inProcessReaders } from '../../../src/sim/inProcess.ts';
import { VirtualYubiKey } from '../../../src/sim/yubikey/card.ts';
import { ScHsmSession } from '../../../src/tokens/schsm/session.ts';
import { deviceTag, describeSlot } from '../../../src/plugins/picohsm/identity.ts';
import { findKey, generateAgeKey, identityOf, readAgeKeys, recipientsOf } from '../../../src/plugins/picohsm/keys.ts';
import { listPicoHsms } from '../../../src/plugins/picohsm/devices.ts';

async function hsm(serial: string, init = true) {
  const h = new VirtualPicoHsm({ port: 0, serial });
  if (init) await h.initialiseWith('648219', '3537363231383830');
  return h;
}

describe('Pico HSM age keys', () => {
  it('generate (both curves), list ours and foreign keys, find keys for identities', async () => {
    const readers = inProcessReaders({ r0: await hsm('ESPH0000001') });
    const s = new ScHsmSession(await readers.connect('r0'));
    await s.select();
    await s.verifyPin('648219');
    const a = await generateAgeKey(s, { label: 'laptop', keyType: 'p256' });
    const b = await generateAgeKey(s, { label: 'laptop-x', keyType: 'x25519' });
    expect(a).toMatchObject({ keyId: 1, curve: 'p256', label: 'laptop', ours: true, derive: true });
    expect(b).toMatchObject({ keyId: 2, curve: 'x25519', ours: true });
    // A foreign key: generated the way OpenSC does (its own holder reference, no description).
    await s.generateKey(3, 'p256', { chr: 'ESPH000000100001' });
    const keys = await readAgeKeys(s);
    expect(keys.map((k) => [k.keyId, k.curve, k.label, k.ours])).toEqual([
      [1, 'p256', 'laptop', true],
      [2, 'x25519', 'laptop-x', true],
      [3, 'p256', null, false],
    ]);
    expect(keys[0]!.publicKey).toEqual(a.publicKey);

    const tag = deviceTag('ESPH0000001');
    const ida = identityOf(a, tag);
    expect(describeSlot(ida.slot)).toEqual({ keyType: 'p256', deviceTag: tag });
    expect(findKey(keys, ida)?.keyId).toBe(1);
    const idb = identityOf(b, tag);
    expect(describeSlot(idb.slot).keyType).toBe('x25519');
    expect(findKey(keys, idb)?.keyId).toBe(2);
    // By id when the label is empty (pinpox falls back the same way); the key reference for keys without a description.
    expect(findKey(keys, { ...ida, label: '' })?.keyId).toBe(1);
    expect(findKey(keys, { slot: 0, keyId: Uint8Array.of(3), label: '' })?.keyId).toBe(3);
    // Type must match: a P-256 identity never picks the X25519 key.
    expect(findKey(keys, { slot: 0, keyId: new Uint8Array(0), label: 'laptop-x' })).toBeNull();
    expect(findKey(keys, { slot: 0, keyId: Uint8Array.of(9), label: '' })).toBeNull();

    expect(recipientsOf(a).recipient).toMatch(/^age1picohsm1/);
    expect(recipientsOf(a).tagRecipient).toMatch(/^age1tag1/);
    expect(recipientsOf(b)).toEqual({ recipient: expect.stringMatching(/^age1[02-9ac-hj-np-z]{58}$/) });
  });

  it('finds Pico HSMs among readers (other cards skipped), uninitialised ones flagged', async () => {
    const readers = inProcessReaders({ a: await hsm('ESPH000000A'), b: new VirtualYubiKey({ port: 0 }), c: await hsm('ESPH000000C', false) });
    const found = await listPicoHsms(readers);
    expect(found.map((d) => [d.reader, d.serial, d.initialised, d.tag])).toEqual([
      ['a', 'ESPH000000A', true, deviceTag('ESPH000000A')],
      ['c', null, false, null],
    ]);
    for (const d of found) await d.close();
  });
});
