/** age-plugin-fido2prf in-process: Fido2PrfIdentity as typage recipient and identity, on the virtual key. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decrypter, Encrypter } from 'age-encryption';
import { Fido2PrfIdentity } from '../../../src/plugins/fido2prf/typage.ts';
import { generate } from '../../../src/plugins/fido2prf/generate.ts';
import { AuthenticatorSet } from '../../../src/tokens/ctap2/authenticators.ts';
import { CtapHidDevice } from '../../../src/transport/ctaphid.ts';
import { Ctap2Session } from '../../../src/tokens/ctap2/session.ts';
import { startVirtualFido2, type VirtualFido2 } from '../../../src/sim/fido2/server.ts';

let v: VirtualFido2;
let keys: AuthenticatorSet;
beforeAll(async () => {
  v = await startVirtualFido2();
  const s = await Ctap2Session.open(await CtapHidDevice.open(v.device()));
  await s.setPin('1357');
  await s.close();
  keys = new AuthenticatorSet({ list: async () => [v.device()] });
});
afterAll(async () => {
  await keys.close();
  await v.stop();
});

describe('Fido2PrfIdentity (typage)', () => {
  it('encrypts and decrypts symmetrically with the PIN and a touch; refuses without a PIN', async () => {
    const g = await generate(keys, 'example.com', { interactive: true, pin: async () => '1357' });
    const messages: string[] = [];
    const id = new Fido2PrfIdentity(g.line, { keys, pin: async () => '1357', message: (m) => messages.push(m) });
    const e = new Encrypter();
    e.addRecipient(id);
    const file = await e.encrypt('prf in-process');
    const d = new Decrypter();
    d.addIdentity(id);
    expect(await d.decrypt(file, 'text')).toBe('prf in-process');
    expect(messages).toEqual(['Touch your security key (keybridge virtual FIDO2)...', 'Touch your security key (keybridge virtual FIDO2)...']);
    const d2 = new Decrypter();
    d2.addIdentity(new Fido2PrfIdentity(g.line, { keys: new AuthenticatorSet({ list: async () => [v.device()] }) }));
    await expect(d2.decrypt(file)).rejects.toThrow(/PIN/);
  });
});
