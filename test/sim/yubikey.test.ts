/**
 * The virtual YubiKey through the real PC/SC stack: unmodified ykman and yubico-piv-tool, our own
 * PIV session over pcsclite, raw APDUs with bad lengths/TLVs/instructions, PIN and PUK counters,
 * persistent state.
 */
import { expect } from 'vitest';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describeWithRig } from '../helpers/rig.ts';
import { DIST, run } from '../helpers/run.ts';
import { findTool, itWith } from '../helpers/tools.ts';
import { openPcsc } from '../../src/transport/pcsc.ts';
import { PivSession } from '../../src/tokens/piv/session.ts';
import { KeyAlgorithm, MgmtKeyAlgorithm, DEFAULT_MGMT_KEY } from '../../src/tokens/piv/constants.ts';
import { startVirtualYubiKey } from '../../src/sim/yubikey/card.ts';
import type { VirtualYubiKey } from '../../src/sim/yubikey/card.ts';

const ykman = findTool('ykman');
const pivTool = findTool('yubico-piv-tool');

async function withPiv<T>(fn: (piv: PivSession, raw: (hex: string) => Promise<string>) => Promise<T>): Promise<T> {
  const readers = await openPcsc();
  try {
    const [name] = await readers.list();
    const t = await readers.connect(name!);
    try {
      const piv = new PivSession(t);
      await piv.select();
      const raw = async (hex: string) => Buffer.from(await t.transmit(Buffer.from(hex.replace(/ /g, ''), 'hex'))).toString('hex').toUpperCase();
      return await fn(piv, raw);
    } finally {
      await t.close(false); // reset: the next session starts unauthenticated
    }
  } finally {
    await readers.close();
  }
}

describeWithRig('virtual YubiKey through pcscd', (ctx) => {
  let yk: VirtualYubiKey;
  const statePath = () => join(ctx.dir, 'state.json');

  itWith([ykman])('ykman reports model, serial and firmware', async () => {
    yk = await ctx.yubikey({ serial: 7654321, version: '5.7.1', statePath: statePath() });
    const info = await run('ykman', ['--device', '7654321', 'info'], { env: ctx.env });
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/Device type: YubiKey 5A\nSerial number: 7654321\nFirmware version: 5\.7\.1/);
    const piv = await run('ykman', ['--device', '7654321', 'piv', 'info'], { env: ctx.env });
    expect(piv.stdout).toContain('PIV version: 5.7.1');
    expect(piv.stdout).toContain('PIN tries remaining: 3/3');
    expect(piv.stdout).toContain('Management key algorithm: AES192');
    expect(statSync(statePath()).mode & 0o777).toBe(0o600);
  });

  itWith([pivTool])('yubico-piv-tool: status, verify-pin, generate', async () => {
    const st = await run('yubico-piv-tool', ['-a', 'status'], { env: ctx.env });
    expect(st.stdout).toMatch(/Version:\t5\.7\.1\nSerial Number:\t7654321/);
    expect(st.stdout).toContain('PIN tries left:\t3');
    const ok = await run('yubico-piv-tool', ['-a', 'verify-pin', '-P', '123456'], { env: ctx.env });
    expect(ok.stdout + ok.stderr).toContain('Successfully verified PIN.');
    // yubico-piv-tool 2.2 authenticates with TDES: give this card a TDES key first, as on firmware < 5.7
    await withPiv(async (piv) => {
      await piv.authenticate(DEFAULT_MGMT_KEY, MgmtKeyAlgorithm.Aes192);
      await piv.setMgmtKey(DEFAULT_MGMT_KEY, MgmtKeyAlgorithm.Tdes);
    });
    const gen = await run('yubico-piv-tool', ['-a', 'generate', '-s', '9a', '-A', 'ECCP256'], { env: ctx.env });
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stdout).toMatch(/-----BEGIN PUBLIC KEY-----/);
    expect(yk.store.state.slots['9a']!.algorithm).toBe(0x11);
  });

  itWith([ykman])('ykman changes the PIN and generates a key in a retired slot', async () => {
    const cp = await run('ykman', ['--device', '7654321', 'piv', 'access', 'change-pin', '-P', '123456', '-n', '24681357'], { env: ctx.env });
    expect(cp.code, cp.stderr).toBe(0);
    expect(yk.store.state.pin).toBe('24681357');
    const out = join(ctx.dir, 'pub.pem');
    const gen = await run('ykman', ['--device', '7654321', 'piv', 'keys', 'generate', '-m', '010203040506070801020304050607080102030405060708', '-a', 'ECCP384', '--pin-policy', 'ALWAYS', '--touch-policy', 'CACHED', '90', out], { env: ctx.env });
    expect(gen.code, gen.stderr).toBe(0);
    expect(yk.store.state.slots['90']).toMatchObject({ algorithm: 0x14, pinPolicy: 3, touchPolicy: 3 });
  });

  itWith([ykman, findTool('openssl')])('ATTEST: ykman gets an attestation certificate that verifies against the F9 certificate', async () => {
    const att = join(ctx.dir, 'attest.pem');
    const ca = join(ctx.dir, 'f9.pem');
    const a = await run('ykman', ['--device', '7654321', 'piv', 'keys', 'attest', '90', att], { env: ctx.env });
    expect(a.code, a.stderr).toBe(0);
    const c = await run('ykman', ['--device', '7654321', 'piv', 'certificates', 'export', 'f9', ca], { env: ctx.env });
    expect(c.code, c.stderr).toBe(0);
    const v = await run('openssl', ['verify', '-CAfile', ca, att]);
    expect(v.stdout.trim(), v.stderr).toBe(`${att}: OK`);
    const text = (await run('openssl', ['x509', '-in', att, '-noout', '-text'])).stdout;
    expect(text).toContain('Subject: CN = YubiKey PIV Attestation 90');
    expect(text).toContain('ASN1 OID: secp384r1');
    expect(text).toMatch(/1\.3\.6\.1\.4\.1\.41482\.3\.8:\s*\n\s*\.\.\s*$/m); // policy bytes 03 03 (always, cached)
  });

  itWith([])('our PIV session over pcsclite: version, serial, metadata, ECDH with PIN policy', async () => {
    await withPiv(async (piv) => {
      expect(await piv.getVersion()).toEqual([5, 7, 1]);
      expect(await piv.getSerial()).toBe(7654321);
      const md = await piv.getMetadata(0x90);
      expect(md).toMatchObject({ algorithm: KeyAlgorithm.EccP384, pinPolicy: 'always', touchPolicy: 'cached', origin: 1 });
      expect(md!.publicKey).toHaveLength(97);
      const pinMd = await piv.getMetadata(0x80);
      expect(pinMd).toMatchObject({ isDefault: false, retries: { total: 3, remaining: 3 } });
      await piv.authenticate(DEFAULT_MGMT_KEY, MgmtKeyAlgorithm.Tdes);
      const pub = await piv.generateKey(0x95, KeyAlgorithm.X25519, 'never', 'never');
      expect(pub).toHaveLength(32);
      const { x25519 } = await import('@noble/curves/ed25519.js');
      const peer = x25519.utils.randomSecretKey();
      const shared = await piv.calculateSecret(0x95, KeyAlgorithm.X25519, x25519.getPublicKey(peer));
      expect(Buffer.from(shared).equals(Buffer.from(x25519.getSharedSecret(peer, pub)))).toBe(true);
      await expect(piv.calculateSecret(0x90, KeyAlgorithm.EccP384, new Uint8Array(97))).rejects.toMatchObject({ code: 'SECURITY_STATUS' });
    });
  });

  itWith([])('bad APDUs get the status words a YubiKey returns', async () => {
    await withPiv(async (_piv, raw) => {
      expect(await raw('00 EE 00 00')).toBe('6D00'); // unknown instruction
      expect(await raw('80 FD 00 00')).toBe('6E00'); // wrong class
      expect(await raw('00 20 00 81 08 31323334353636FF')).toBe('6B00'); // VERIFY with a wrong reference
      expect(await raw('00 20 00 80 03 313233')).toBe('6A80'); // PIN block of wrong size
      expect(await raw('00 CB 3F FF 05 5C 03 5F C1')).toBe('6700'); // Lc larger than the data
      expect(await raw('00 CB 3F FE 05 5C 03 5F C1 02')).toBe('6B00'); // wrong P1/P2
      expect(await raw('00 CB 3F FF 04 5C 05 5F C1')).toBe('6A80'); // truncated TLV
      expect(await raw('00 CB 3F FF 05 5C 03 5F C1 02')).toBe('6A82'); // CHUID absent
      expect(await raw('00 47 00 9A 05 AC 03 80 01 11')).toBe('6982'); // GENERATE without the management key
      expect(await raw('00 87 11 9E 06 7C 04 82 00 85 00')).toBe('6A82'); // no key in slot 9E
      expect(await raw('00 A4 04 00 05 A0 00 00 99 99')).toBe('6A82'); // unknown application
    });
  });

  itWith([])('a wrong PIN counts down and blocks; the PUK unblocks', async () => {
    await withPiv(async (piv) => {
      await expect(piv.verifyPin('000000')).rejects.toMatchObject({ code: 'PIN_INVALID', retriesLeft: 2, message: 'Invalid PIN (2 tries remaining before it is blocked)' });
      await expect(piv.verifyPin('000000')).rejects.toMatchObject({ code: 'PIN_INVALID', retriesLeft: 1 });
      await expect(piv.verifyPin('000000')).rejects.toMatchObject({ code: 'PIN_BLOCKED' });
      await expect(piv.verifyPin('24681357')).rejects.toMatchObject({ code: 'PIN_BLOCKED' });
      expect((await piv.pinStatus()).retriesLeft).toBe(0);
      await expect(piv.unblockPin('99999999', '11223344')).rejects.toMatchObject({ code: 'PUK_INVALID', retriesLeft: 2 });
      await piv.unblockPin('12345678', '11223344');
      await piv.verifyPin('11223344');
      expect(await piv.pinStatus()).toEqual({ verified: true });
    });
  });

  itWith([ykman])('state survives unplugging and a restart of the simulator', async () => {
    await yk.stop();
    await ctx.rig.waitForCard(0, 'absent');
    const again = await startVirtualYubiKey({ port: ctx.rig.ports[0], statePath: statePath() });
    await ctx.rig.waitForCard(0, 'present');
    expect(again.serial).toBe(7654321);
    expect(again.store.state.pin).toBe('11223344');
    expect(Object.keys(again.store.state.slots).sort()).toEqual(['90', '95', '9a']);
    await again.stop();
  });

  itWith([ykman])('keybridge sim yubikey runs until SIGTERM', async () => {
    const child = spawn(process.execPath, [`${DIST}/keybridge.mjs`, 'sim', 'yubikey', '--serial', '3141592', '--port', String(ctx.rig.ports[1])], { env: ctx.env });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    await new Promise<void>((resolve, reject) => {
      const check = () => (err.includes('plugged into vpcd port') ? resolve() : undefined);
      child.stderr.on('data', check);
      child.once('exit', () => reject(new Error(`keybridge sim exited: ${err}`)));
      check();
    });
    expect(err).toContain(`serial 3141592 plugged into vpcd port ${ctx.rig.ports[1]}`);
    await ctx.rig.waitForCard(1, 'present');
    const info = await run('ykman', ['--device', '3141592', 'info'], { env: ctx.env });
    expect(info.stdout).toContain('Serial number: 3141592');
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(err).toContain('virtual YubiKey unplugged');
  });
});
