/**
 * The virtual Pico HSM through the real PC/SC stack, kept honest by unmodified OpenSC:
 * opensc-tool names it, sc-hsm-tool initialises it, pkcs11-tool (opensc-pkcs11.so) logs in,
 * generates a P-256 key, lists it and derives an ECDH secret that Python `cryptography` and
 * openssl compute too; the PIN counter and persistent state behave like the device's.
 */
import { expect } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithRig } from '../helpers/rig.ts';
import { run } from '../helpers/run.ts';
import { findTool, itWith } from '../helpers/tools.ts';
import { startVirtualPicoHsm, type VirtualPicoHsm } from '../../src/sim/picohsm/card.ts';

const MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const openscTool = findTool('opensc-tool');
const scHsmTool = findTool('sc-hsm-tool');
const pkcs11Tool = findTool('pkcs11-tool');
const openssl = findTool('openssl');
const python = findTool('/usr/bin/python3');

/** An independent ECDH: Python `cryptography` makes a peer key, writes its SPKI, and computes the secret with our public key. */
const PEER_PY = `
import sys
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import serialization
k = ec.generate_private_key(ec.SECP256R1())
open(sys.argv[1], 'wb').write(k.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
open(sys.argv[2], 'wb').write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
`;
const SHARED_PY = `
import sys
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import serialization
k = serialization.load_pem_private_key(open(sys.argv[1], 'rb').read(), None)
pub = serialization.load_der_public_key(open(sys.argv[2], 'rb').read())
print(k.exchange(ec.ECDH(), pub).hex())
`;

describeWithRig('virtual Pico HSM through pcscd and OpenSC', (ctx) => {
  let hsm: VirtualPicoHsm;
  const statePath = () => join(ctx.dir, 'hsm.json');
  const p11 = (...args: string[]) => run('pkcs11-tool', ['--module', MODULE, ...args], { env: ctx.env, timeoutMs: 30000 });

  itWith([openscTool, scHsmTool, pkcs11Tool])('a new (uninitialised) device: OpenSC names it a SmartCard-HSM and sc-hsm-tool --initialize sets it up', async () => {
    hsm = await ctx.plug((port) => startVirtualPicoHsm({ port, serial: 'ESPH1234567', statePath: statePath(), initialise: false }));
    const name = await run('opensc-tool', ['-n'], { env: ctx.env });
    expect(name.stdout.trim(), name.stderr).toBe('SmartCard-HSM version 5.4');
    const atr = await run('opensc-tool', ['-a'], { env: ctx.env });
    expect(atr.stdout.trim()).toBe('3b:fe:18:00:00:81:31:fe:45:80:31:81:54:48:53:4d:31:73:80:21:40:81:07:fa');
    // Uninitialised: the PKCS#15 emulation finds no device certificate, so no token.
    const before = await p11('-L');
    expect(before.stdout).not.toContain('token label');
    const init = await run('sc-hsm-tool', ['--initialize', '--so-pin', '3537363231383830', '--pin', '24681357', '--pin-retry', '5', '--label', 'age keys'], { env: ctx.env });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stderr).not.toContain('failed');
    const after = await p11('-L');
    expect(after.stdout).toContain('token label        : age keys (UserPIN)');
    expect(after.stdout).toContain('serial num         : ESPH1234567');
    expect(hsm.store.state).toMatchObject({ initialized: true, pinRetries: 5, pinRetriesLeft: 5, options: 1 });
    expect(statSync(statePath()).mode & 0o777).toBe(0o600);
  });

  itWith([scHsmTool, pkcs11Tool])('re-initialising needs the current SO-PIN; a wrong one changes nothing', async () => {
    const bad = await run('sc-hsm-tool', ['--initialize', '--so-pin', '0000000000000000', '--pin', '111111'], { env: ctx.env });
    expect(bad.stderr).toContain('Security status not satisfied');
    expect(JSON.parse(readFileSync(statePath(), 'utf8'))).toMatchObject({ soPinRetriesLeft: 14, pinRetries: 5 });
    const list = await p11('-L');
    expect(list.stdout).toContain('age keys (UserPIN)');
  });

  itWith([pkcs11Tool, openssl, python])('pkcs11-tool logs in, generates a P-256 key, lists it and derives the ECDH secret others compute', async () => {
    const gen = await p11('--login', '--pin', '24681357', '--keypairgen', '--key-type', 'EC:prime256v1', '--id', 'a1b2c3d4', '--label', 'age-key');
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stdout).toContain('label:      age-key');
    const objects = await p11('--login', '--pin', '24681357', '-O');
    expect(objects.stdout).toMatch(/Private Key Object; EC\n\s+label:\s+age-key\n\s+ID:\s+a1b2c3d4\n\s+Usage:\s+sign, derive/);
    expect(objects.stdout).toMatch(/Public Key Object; EC\s+EC_POINT 256 bits/);
    // The card stored the key and its CV request (public key) as files; PRKD written by OpenSC.
    expect(Object.keys(hsm.store.state.keys).sort()).toEqual(['00', '01']);
    expect(hsm.store.state.files['ce01']!.slice(0, 2)).toBe('67');

    const peerDer = join(ctx.dir, 'peer.der');
    const peerKey = join(ctx.dir, 'peer.pem');
    writeFileSync(join(ctx.dir, 'peer.py'), PEER_PY);
    writeFileSync(join(ctx.dir, 'shared.py'), SHARED_PY);
    expect((await run('/usr/bin/python3', [join(ctx.dir, 'peer.py'), peerDer, peerKey])).code).toBe(0);
    const secretFile = join(ctx.dir, 'secret.bin');
    const derive = await p11('--login', '--pin', '24681357', '--derive', '-m', 'ECDH1-DERIVE', '--id', 'a1b2c3d4', '--input-file', peerDer, '--output-file', secretFile);
    expect(derive.code, derive.stderr).toBe(0);
    const cardSecret = readFileSync(secretFile).toString('hex');
    expect(cardSecret).toMatch(/^[0-9a-f]{64}$/);

    const pubDer = join(ctx.dir, 'pub.der');
    expect((await p11('--read-object', '--type', 'pubkey', '--id', 'a1b2c3d4', '-o', pubDer)).code).toBe(0);
    const py = await run('/usr/bin/python3', [join(ctx.dir, 'shared.py'), peerKey, pubDer]);
    expect(py.stdout.trim(), py.stderr).toBe(cardSecret);
    const pubPem = join(ctx.dir, 'pub.pem');
    expect((await run('openssl', ['pkey', '-pubin', '-inform', 'DER', '-in', pubDer, '-out', pubPem])).code).toBe(0);
    const ossl = await run('openssl', ['pkeyutl', '-derive', '-inkey', peerKey, '-peerkey', pubPem]);
    expect(ossl.stdoutBytes.toString('hex')).toBe(cardSecret);
  });

  itWith([pkcs11Tool])('a wrong PIN counts down, the right one resets the counter; state survives re-plugging', async () => {
    const wrong = await p11('--login', '--pin', '000000', '-O');
    expect(wrong.stderr).toContain('CKR_PIN_INCORRECT');
    expect(hsm.store.state.pinRetriesLeft).toBe(4);
    await hsm.remove();
    hsm = await ctx.plug((port) => startVirtualPicoHsm({ port, statePath: statePath() }));
    expect(hsm.store.state.pinRetriesLeft).toBe(4);
    const right = await p11('--login', '--pin', '24681357', '-O');
    expect(right.stdout, right.stderr).toContain('age-key');
    expect(hsm.store.state.pinRetriesLeft).toBe(5);
  });

  itWith([pkcs11Tool])('pkcs11-tool deletes the key it made', async () => {
    const del = await p11('--login', '--pin', '24681357', '--delete-object', '--type', 'privkey', '--id', 'a1b2c3d4');
    expect(del.code, del.stderr).toBe(0);
    expect(hsm.store.state.keys['01']).toBeUndefined();
    expect((await p11('--login', '--pin', '24681357', '-O')).stdout).not.toContain('age-key');
  });
});
