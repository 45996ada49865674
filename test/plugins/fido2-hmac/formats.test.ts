/**
 * age-plugin-fido2-hmac formats against upstream's recorded vectors (backcomp.txtar and the v2
 * identity of TestEnforcePin, made with the Nitrokey 3 test device), and v1/v2 wrapping with
 * hmac-secret outputs of the virtual authenticator checked against the real `age` CLI.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bech32 } from '@scure/base';
import {
  EMPTY_IDENTITY,
  MAGIC_IDENTITY,
  RP_ID,
  decodeRecipient,
  identityString,
  parseIdentityString,
  parseRecipientString,
  parseStanza,
  recipientString,
  recipientV2,
  recipientV3,
  unwrapV1,
  unwrapV2,
  wrapV1,
  wrapV2,
  type Fido2HmacIdentity,
} from '../../../src/plugins/fido2-hmac/format.ts';
import { x25519IdentityString, x25519RecipientString } from '../../../src/age/x25519.ts';
import { encodeStanza } from '../../../src/age/stanza.ts';
import { CtapHidDevice } from '../../../src/transport/ctaphid.ts';
import { Ctap2Session } from '../../../src/tokens/ctap2/session.ts';
import { startVirtualFido2 } from '../../../src/sim/fido2/server.ts';
import { findTool, itWith } from '../../helpers/tools.ts';
import { headerStanzas, txtar } from '../../helpers/ageFile.ts';

const FIX = join(import.meta.dirname, '../../fixtures/fido2-hmac');
const vectors = txtar(readFileSync(join(FIX, 'backcomp.txtar'), 'utf8'));
const v2Identity = readFileSync(join(FIX, 'v2-identity.txt'), 'utf8').trim();
const line = (k: string) => vectors[k]!.trim();
const age = findTool('age');
const ageKeygen = findTool('age-keygen');

describe('upstream recorded vectors (v0.4.0 backcomp.txtar, TestEnforcePin)', () => {
  it('the magic and empty identities are data-less', () => {
    expect(line('magic.txt')).toBe(MAGIC_IDENTITY);
    expect(parseIdentityString(MAGIC_IDENTITY)).toEqual({ version: 'dataless' });
    expect(parseIdentityString(EMPTY_IDENTITY)).toEqual({ version: 'dataless' });
    expect(Buffer.from(bech32.fromWords(bech32.decode(MAGIC_IDENTITY as `${string}1${string}`, false).words)).toString()).toBe('fido2-hmac');
  });

  it('v1 identities and recipients parse to pin flag + 158-byte Nitrokey credential id and re-encode identically', () => {
    const idPin = parseIdentityString(line('id_pin'));
    const idNoPin = parseIdentityString(line('id_nopin'));
    const recPin = parseRecipientString(line('rec_pin'));
    const recNoPin = parseRecipientString(line('rec_nopin'));
    for (const [x, pin] of [[idPin, true], [idNoPin, false], [recPin, true], [recNoPin, false]] as const) {
      expect(x.version).toBe(1);
      if (x.version !== 1) throw new Error();
      expect(x.requirePin).toBe(pin);
      expect(x.credentialId.length).toBe(158);
      expect(Buffer.from(x.credentialId.subarray(0, 4)).toString('hex')).toBe('a300587a');
    }
    expect(identityString(idPin as Exclude<Fido2HmacIdentity, { version: 'dataless' }>)).toBe(line('id_pin'));
    expect(identityString(idNoPin as Exclude<Fido2HmacIdentity, { version: 'dataless' }>)).toBe(line('id_nopin'));
    expect(recipientString(recPin)).toBe(line('rec_pin'));
    expect(recipientString(recNoPin)).toBe(line('rec_nopin'));
  });

  it('the four recorded files carry v1 stanzas: 2 args for identities, 4 (AQ/AA + credential id) for recipients', async () => {
    for (const name of ['id_pin_enc', 'id_nopin_enc', 'rec_pin_enc', 'rec_nopin_enc']) {
      const stanzas = await headerStanzas(vectors[name]!);
      expect(stanzas.map((s) => s.type)).toEqual(['fido2-hmac']);
      const s = stanzas[0]!;
      const parsed = parseStanza(s.args, s.body);
      expect(parsed.version).toBe(1);
      if (parsed.version !== 1) throw new Error();
      expect(parsed.salt.length).toBe(32);
      expect(parsed.nonce.length).toBe(12);
      expect(parsed.body.length).toBe(32);
      if (name.startsWith('id_')) {
        expect(s.args).toHaveLength(2);
        expect(parsed.credentialId).toBeUndefined();
      } else {
        expect(s.args).toHaveLength(4);
        const rec = parseRecipientString(line(name === 'rec_pin_enc' ? 'rec_pin' : 'rec_nopin'));
        expect(parsed.requirePin).toBe(name === 'rec_pin_enc');
        expect(parsed.credentialId).toEqual(rec.credentialId);
        expect(s.args[3]!.length).toBe(211);
      }
    }
  });

  it('the v2 identity: pin flag, 32-byte salt, credential id', () => {
    const id = parseIdentityString(v2Identity);
    expect(id.version).toBe(2);
    if (id.version !== 2) throw new Error();
    expect(id.salt.length).toBe(32);
    expect(id.credentialId.length).toBeGreaterThan(100);
    expect(identityString(id)).toBe(v2Identity);
  });

  it('what v0.4.0 refuses is refused with its messages; short stanzas are errors, not crashes', () => {
    const v4 = bech32.encode('age1fido2-hmac', bech32.toWords(new Uint8Array([0, 4, 1, 2, 3])), false);
    expect(() => parseRecipientString(v4)).toThrow('unsupported recipient version 4');
    const shortV3 = bech32.encode('age1fido2-hmac', bech32.toWords(new Uint8Array([0, 3, 1, 2, 3])), false);
    expect(() => parseRecipientString(shortV3)).toThrow('malformed recipient: too short');
    const v10 = bech32.encode('age-plugin-fido2-hmac-', bech32.toWords(new Uint8Array([0, 0x10, 1, 2])), false).toUpperCase();
    expect(() => parseIdentityString(v10)).toThrow('unsupported identity version 10');
    expect(() => parseRecipientString(bech32.encode('age1yubikey', bech32.toWords(new Uint8Array(33)), false))).toThrow(/invalid type age1yubikey/);
    const salt = 'A'.repeat(43);
    expect(() => parseStanza([salt, 'AAAAAAAAAAAAAAAA', 'AQ'], new Uint8Array(32))).toThrow(/2 or 4 arguments/);
    expect(() => parseStanza(['AAI', 'x'.repeat(43)], new Uint8Array(32))).toThrow(/5 arguments/);
    expect(() => parseStanza(['AAM', 'x', 'AQ', salt, 'AQ'], new Uint8Array(32))).toThrow('unsupported stanza version 3');
    expect(() => parseStanza(['AAI', 'x'.repeat(1500), 'AQ', salt, 'AQ'], new Uint8Array(32))).toThrow(/bad native share/);
    expect(() => decodeRecipient(new Uint8Array([0, 2, 1]))).toThrow(/too short/);
  });
});

describe('v1 and v2 with the virtual authenticator', () => {
  async function credential(pin: boolean) {
    const v = await startVirtualFido2();
    const s = await Ctap2Session.open(await CtapHidDevice.open(v.device()));
    const cred = await s.makeCredential({ rpId: RP_ID, userId: new Uint8Array(32), userName: 'u', hmacSecret: true });
    const hmac = async (salt: Uint8Array) => (await s.getAssertion({ rpId: RP_ID, allowList: [cred.credentialId], hmacSalts: [salt] })).hmacOutputs![0]!;
    return { v, s, id: cred.credentialId, hmac, pin };
  }

  it('v1: wrap with a fresh salt/nonce, unwrap with the hmac of the stanza salt', async () => {
    const c = await credential(false);
    const fileKey = new Uint8Array(16).fill(7);
    const st = await wrapV1(fileKey, c.hmac, { requirePin: false, credentialId: c.id });
    expect(st.args).toHaveLength(4);
    expect(st.args[2]).toBe('AA');
    const parsed = parseStanza(st.args, st.body);
    if (parsed.version !== 1) throw new Error();
    expect(unwrapV1(parsed, await c.hmac(parsed.salt))).toEqual(fileKey);
    expect(unwrapV1(parsed, new Uint8Array(32))).toBeNull();
    await c.s.close();
    await c.v.stop();
  });

  itWith([age, ageKeygen])('v2: the hmac output is an X25519 age key — the real age CLI agrees both ways', async () => {
    const c = await credential(false);
    const salt = new Uint8Array(32).fill(3);
    const secret = await c.hmac(salt);
    const rec = recipientV2(secret, false, salt, c.id);
    const native = x25519RecipientString(rec.publicKey);
    const idString = x25519IdentityString(secret);
    expect(execFileSync(ageKeygen.path!, ['-y'], { input: idString + '\n', encoding: 'utf8' }).trim()).toBe(native);
    // age encrypts to the native recipient; our v2 unwrap (through the X25519 stanza) opens it.
    const enc = execFileSync(age.path!, ['-r', native], { input: 'hello' });
    const [x] = await headerStanzas(enc);
    expect(x!.type).toBe('X25519');
    expect(await unwrapV2(x!.args[0]!, x!.body, secret)).not.toBeNull();
    // Our v2 stanza's native half, written as an X25519 stanza, is opened by age with the identity.
    const fileKey = new Uint8Array(16).fill(9);
    const st = wrapV2(fileKey, rec);
    expect(st.args[0]).toBe('AAI');
    expect(st.args[2]).toBe('AA');
    const parsed = parseStanza(st.args, st.body);
    if (parsed.version !== 2) throw new Error();
    expect(parsed.credentialId).toEqual(c.id);
    expect(await unwrapV2(parsed.share, parsed.body, secret)).toEqual(fileKey);
    expect(encodeStanza({ type: 'X25519', args: [parsed.share], body: parsed.body })).toMatch(/^-> X25519 /);
    await c.s.close();
    await c.v.stop();
  });

  it('v3 (post-quantum, upstream main): the hmac output seeds an mlkem768x25519 key; recipients round-trip, stanzas stay version 2', async () => {
    const c = await credential(false);
    const salt = new Uint8Array(32).fill(5);
    const secret = await c.hmac(salt);
    const rec = recipientV3(secret, true, salt, c.id);
    expect(rec.publicKey.length).toBe(1216);
    const s = recipientString(rec);
    expect(parseRecipientString(s)).toEqual(rec);
    const fileKey = new Uint8Array(16).fill(4);
    const st = wrapV2(fileKey, rec);
    expect(st.args[0]).toBe('AAI');
    expect(st.args[1]!.length).toBeGreaterThan(43);
    expect(st.args[2]).toBe('AQ');
    const parsed = parseStanza(st.args, st.body);
    if (parsed.version !== 2) throw new Error();
    expect(await unwrapV2(parsed.share, parsed.body, secret)).toEqual(fileKey);
    expect(await unwrapV2(parsed.share, parsed.body, new Uint8Array(32).fill(1))).toBeNull();
    await c.s.close();
    await c.v.stop();
  });
});
