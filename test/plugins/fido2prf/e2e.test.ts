/**
 * age-plugin-fido2prf end to end: the real `age` CLI runs the plugin bundle; the key is the
 * virtual authenticator over TCP. `-generate RPID`, symmetric encryption with `age -e -i`,
 * decryption with the PIN on a pty, only the owner of the credential touched, and a file made by
 * typage's own WebAuthnRecipient decrypted by `age -d -i` through the plugin.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect } from 'vitest';
import { Encrypter, webauthn } from 'age-encryption';
import { startVirtualFido2, type VirtualFido2 } from '../../../src/sim/fido2/server.ts';
import { CtapHidDevice } from '../../../src/transport/ctaphid.ts';
import { Ctap2Session } from '../../../src/tokens/ctap2/session.ts';
import { installWebAuthn } from '../../helpers/webauthn.ts';
import { ageNoTty, ageOnPty, pluginPath } from '../../helpers/ageCli.ts';
import { DIST, run } from '../../helpers/run.ts';
import { findTool, itWith } from '../../helpers/tools.ts';

const it = itWith([findTool('age'), findTool('python3')]);
const PIN = '9753';
const { dir, env: baseEnv } = pluginPath(['fido2prf']);
const sims: VirtualFido2[] = [];
afterEach(async () => {
  for (const v of sims.splice(0)) await v.stop();
});

async function key(): Promise<VirtualFido2> {
  const v = await startVirtualFido2({ port: 0 });
  sims.push(v);
  const s = await Ctap2Session.open(await CtapHidDevice.open(v.device()));
  await s.setPin(PIN);
  await s.close();
  return v;
}
const envFor = (...vs: VirtualFido2[]) => ({ ...baseEnv, KEYBRIDGE_FIDO2_TCP: vs.map((v) => v.endpoint).join(',') });
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

async function generate(v: VirtualFido2, rpId: string): Promise<string> {
  const r = await run(process.execPath, [`${DIST}/age-plugin-fido2prf.mjs`, '-generate', rpId], { env: envFor(v), input: `${PIN}\n`, noTty: true, timeoutMs: 60_000 });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.stderr).toContain('Enter the security key PIN');
  expect(r.stderr).not.toContain(PIN);
  expect(r.stdout).toMatch(/^AGE-PLUGIN-FIDO2PRF-1[A-Z0-9]+\n$/);
  return r.stdout;
}

describe('age-plugin-fido2prf with the real age CLI', () => {
  it('-generate RPID, age -e -i and age -d -i with the PIN on a pty, the touch message naming the key', async () => {
    const v = await key();
    const idFile = file('prf1.txt', await generate(v, 'example.com'));
    const enc = join(dir, 'prf1.age');
    const e = await ageOnPty(['-e', '-i', idFile, '-o', enc, file('prf1-plain.txt', 'prf secret\n')], envFor(v), [[/security key PIN for/, PIN]]);
    expect(e.code, e.stdout).toBe(0);
    expect(readFileSync(enc, 'latin1')).toMatch(/^-> age-encryption\.org\/fido2prf [A-Za-z0-9+/]{22}\n/m);
    const d = await ageOnPty(['-d', '-i', idFile, enc], envFor(v), [[/security key PIN for/, '1212'], [/Wrong PIN \(7 tries left\)/, PIN]]);
    expect(d.code, d.stdout).toBe(0);
    expect(d.stdout).toContain('prf secret');
    expect(d.stdout).toContain(`Touch your security key (FIDO2 key at ${v.endpoint})...`);
  });

  it('-generate refuses several keys and no key, with the reference texts on stdout', async () => {
    const a = await key();
    const b = await key();
    const two = await run(process.execPath, [`${DIST}/age-plugin-fido2prf.mjs`, '-generate', 'example.com'], { env: envFor(a, b), input: `${PIN}\n`, noTty: true });
    expect(two.code).toBe(1);
    expect(two.stdout).toBe('Error: multiple FIDO2 devices found, please remove all but one\n');
    const none = await run(process.execPath, [`${DIST}/age-plugin-fido2prf.mjs`, '-generate', 'example.com'], { env: { ...baseEnv, KEYBRIDGE_FIDO2_TCP: '127.0.0.1:1' }, input: `${PIN}\n`, noTty: true });
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/^Error: no FIDO2 devices found/);
  });

  it('a file typage encrypts (WebAuthn PRF on the virtual key) decrypts with age -d -i; only the owner is touched', async () => {
    const owner = await key();
    const other = await key();
    const session = await Ctap2Session.open(await CtapHidDevice.open(owner.device()));
    const uninstall = installWebAuthn(session, PIN);
    let identity: string;
    let encrypted: Uint8Array;
    try {
      identity = await webauthn.createCredential({ keyName: 'e2e', type: 'security-key', rpId: 'age.example.org' });
      const e = new Encrypter();
      e.addRecipient(new webauthn.WebAuthnRecipient({ identity }));
      encrypted = await e.encrypt('typage wrote this');
    } finally {
      uninstall();
      await session.close();
    }
    const enc = join(dir, 'typage.age');
    writeFileSync(enc, encrypted);
    const idFile = file('typage-id.txt', `${identity}\n`);
    const touched: string[] = [];
    owner.onEvent((e) => e.type === 'touch-requested' && touched.push('owner'));
    other.onEvent((e) => e.type === 'touch-requested' && touched.push('other'));
    const d = await ageOnPty(['-d', '-i', idFile, enc], envFor(other, owner), [[/security key PIN for FIDO2 key at/, PIN]]);
    expect(d.code, d.stdout).toBe(0);
    expect(d.stdout).toContain('typage wrote this');
    expect(d.stdout).toContain(`PIN for FIDO2 key at ${owner.endpoint}`);
    expect(touched).toEqual(['owner']);
    // Without the owner, the identity does not match (no error stanza): age says so.
    const skip = await ageNoTty(['-d', '-i', idFile, enc], { ...envFor(other), AGE_PLUGIN_FIDO2PRF_SKIP_NOT_FOUND: '1' });
    expect(skip.code).toBe(1);
    expect(skip.stderr).toContain('no identity matched any of the recipients');
  });
});
