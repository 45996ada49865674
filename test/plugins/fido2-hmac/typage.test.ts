/** age-plugin-fido2-hmac in-process through typage: Encrypter/Decrypter with the virtual key. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decrypter, Encrypter } from 'age-encryption';
import { Fido2HmacIdentity, Fido2HmacRecipient } from '../../../src/plugins/fido2-hmac/typage.ts';
import { generate } from '../../../src/plugins/fido2-hmac/generate.ts';
import { AuthenticatorSet } from '../../../src/tokens/ctap2/authenticators.ts';
import { CtapHidDevice } from '../../../src/transport/ctaphid.ts';
import { Ctap2Session } from '../../../src/tokens/ctap2/session.ts';
import { startVirtualFido2, type VirtualFido2 } from '../../../src/sim/fido2/server.ts';

let v: VirtualFido2;
let keys: AuthenticatorSet;
beforeAll(async () => {
  v = await startVirtualFido2();
  const s = await Ctap2Session.open(await CtapHidDevice.open(v.device()));
  await s.setPin('2580');
  await s.close();
  keys = new AuthenticatorSet({ list: async () => [v.device()] });
});
afterAll(async () => {
  await keys.close();
  await v.stop();
});

const answers = (a: boolean[]) => ({
  message: async () => undefined,
  requestSecret: async () => '2580',
  confirm: async () => a.shift()!,
});

describe('typage adapters', () => {
  it('v2 recipient without the key, identity with PIN and touch message; v1 identity symmetric', async () => {
    const g = await generate(keys, answers([true, true]));
    const messages: string[] = [];
    const e = new Encrypter();
    e.addRecipient(g.publicKey);
    const file = await e.encrypt('in-process');
    const d = new Decrypter();
    d.addIdentity(new Fido2HmacIdentity(g.identityString!, { keys, pin: async () => '2580', message: (t) => messages.push(t) }));
    expect(await d.decrypt(file, 'text')).toBe('in-process');
    expect(messages).toEqual(['Please touch your token (keybridge virtual FIDO2)...']);

    const noId = await generate(keys, answers([false, false]));
    const e2 = new Encrypter();
    e2.addRecipient(new Fido2HmacRecipient(noId.publicKey, { keys }));
    const file2 = await e2.encrypt('to a fido2-hmac recipient');
    const d2 = new Decrypter();
    d2.addIdentity(new Fido2HmacIdentity('AGE-PLUGIN-FIDO2-HMAC-188VDVA', { keys }));
    expect(await d2.decrypt(file2, 'text')).toBe('to a fido2-hmac recipient');

    const sym = await generate(keys, answers([false, true]), { symmetric: true });
    const id = new Fido2HmacIdentity(sym.identityString!, { keys });
    const e3 = new Encrypter();
    e3.addRecipient(id);
    const d3 = new Decrypter();
    d3.addIdentity(id);
    expect(await d3.decrypt(await e3.encrypt('symmetric'), 'text')).toBe('symmetric');
  });

  it('an absent key fails clearly in-process, or does not match with skipNotFound; a PIN is required', async () => {
    const g = await generate(keys, answers([true, true]));
    const e = new Encrypter();
    e.addRecipient(g.publicKey);
    const file = await e.encrypt('x');
    const none = new AuthenticatorSet({ list: async () => [] });
    const d = new Decrypter();
    d.addIdentity(new Fido2HmacIdentity(g.identityString!, { keys: none, pin: async () => '2580' }));
    await expect(d.decrypt(file)).rejects.toThrow(/no plugged-in FIDO2 key holds/);
    const d2 = new Decrypter();
    d2.addIdentity(new Fido2HmacIdentity(g.identityString!, { keys: none, skipNotFound: true }));
    await expect(d2.decrypt(file)).rejects.toThrow('no identity matched');
    const d3 = new Decrypter();
    d3.addIdentity(new Fido2HmacIdentity(g.identityString!, { keys }));
    await expect(d3.decrypt(file)).rejects.toThrow(/PIN/);
    expect(() => new Fido2HmacIdentity('AGE-PLUGIN-YUBIKEY-1QQQQ')).toThrow(/invalid fido2-hmac identity/);
  });
});
