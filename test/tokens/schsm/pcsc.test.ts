/**
 * ScHsmSession through the real PC/SC stack (pcsclite → pcscd → vpcd → virtual Pico HSM), with
 * extended-length APDUs on the wire, and agreement with OpenSC in both directions: a key and
 * description we write are what pkcs11-tool lists (label, CKA_ID), a key pkcs11-tool makes is one
 * we read; a PIN blocked through us is unblocked with the SO-PIN by pkcs11-tool --init-pin.
 */
import { expect } from 'vitest';
import { p256 } from '@noble/curves/nist.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { describeWithRig } from '../../helpers/rig.ts';
import { run } from '../../helpers/run.ts';
import { findTool, itWith } from '../../helpers/tools.ts';
import { openPcsc } from '../../../src/transport/pcsc.ts';
import { startVirtualPicoHsm, DEFAULT_PIN, DEFAULT_SO_PIN, type VirtualPicoHsm } from '../../../src/sim/picohsm/card.ts';
import { ScHsmSession } from '../../../src/tokens/schsm/session.ts';
import { encodeEcPrkd, Usage } from '../../../src/tokens/schsm/prkd.ts';

const MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const pkcs11Tool = findTool('pkcs11-tool');

async function withSession<T>(fn: (s: ScHsmSession) => Promise<T>): Promise<T> {
  const readers = await openPcsc();
  try {
    const [name] = await readers.list();
    const t = await readers.connect(name!);
    try {
      const s = new ScHsmSession(t);
      await s.select();
      return await fn(s);
    } finally {
      await t.close(false);
    }
  } finally {
    await readers.close();
  }
}

describeWithRig('ScHsmSession through pcscd', (ctx) => {
  let hsm: VirtualPicoHsm;
  const p11 = (...args: string[]) => run('pkcs11-tool', ['--module', MODULE, ...args], { env: ctx.env, timeoutMs: 30000 });

  itWith([])('select, serial, PIN, key generation and ECDH for both curves over pcsclite', async () => {
    hsm = await ctx.plug((port) => startVirtualPicoHsm({ port, serial: 'ESPH7777777' }));
    await withSession(async (s) => {
      expect(await s.serial()).toBe('ESPH7777777');
      expect(await s.pinStatus()).toEqual({ initialised: true, verified: false, retriesLeft: 3 });
      await s.verifyPin(DEFAULT_PIN);
      const k = await s.generateKey(1, 'p256', { chr: 'KBAGE00001' });
      const x = await s.generateKey(2, 'x25519', { chr: 'KBAGE00002' });
      await s.writeKeyDescription(1, encodeEcPrkd({ label: 'age-p256', id: Uint8Array.of(0xde, 0xad, 0xbe, 0xef), usage: Usage.DERIVE, keyRef: 1, fieldSize: 256 }));
      const peer = p256.utils.randomSecretKey();
      expect(await s.ecdh(1, p256.getPublicKey(peer, false))).toEqual(p256.getSharedSecret(peer, k.publicKey).subarray(1));
      const xp = x25519.utils.randomSecretKey();
      expect(await s.ecdh(2, x25519.getPublicKey(xp))).toEqual(x25519.getSharedSecret(xp, x.publicKey));
    });
  });

  itWith([pkcs11Tool])('OpenSC lists the key we generated and described, with our label and id', async () => {
    const o = await p11('--login', '--pin', DEFAULT_PIN, '-O');
    expect(o.stdout, o.stderr).toMatch(/Private Key Object; EC\n\s+label:\s+age-p256\n\s+ID:\s+deadbeef\n\s+Usage:\s+derive/);
    expect(o.stdout).toMatch(/Public Key Object; EC\s+EC_POINT 256 bits/);
  });

  itWith([pkcs11Tool])('we read the public key and description of a key pkcs11-tool generated', async () => {
    const gen = await p11('--login', '--pin', DEFAULT_PIN, '--keypairgen', '--key-type', 'EC:prime256v1', '--id', '0102', '--label', 'made-by-opensc');
    expect(gen.code, gen.stderr).toBe(0);
    const point = /EC_POINT:\s+0441(04[0-9a-f]{128})/.exec(gen.stdout)![1]!;
    await withSession(async (s) => {
      const ids = await s.listKeyIds();
      expect(ids).toEqual([0, 1, 2, 3]);
      expect(await s.readKeyDescription(3)).toMatchObject({ label: 'made-by-opensc', id: Uint8Array.of(1, 2) });
      expect(Buffer.from((await s.readPublicKey(3)).publicKey).toString('hex')).toBe(point);
    });
  });

  itWith([pkcs11Tool])('a PIN blocked through us is unblocked with the SO-PIN by pkcs11-tool --init-pin', async () => {
    await withSession(async (s) => {
      for (const left of [2, 1]) await expect(s.verifyPin('000000')).rejects.toMatchObject({ code: 'PIN_INVALID', retriesLeft: left });
      await expect(s.verifyPin('000000')).rejects.toMatchObject({ code: 'PIN_BLOCKED' });
    });
    expect(hsm.store.state.pinRetriesLeft).toBe(0);
    const unblock = await p11('--login', '--login-type', 'so', '--so-pin', DEFAULT_SO_PIN, '--init-pin', '--new-pin', '86420135');
    expect(unblock.code, unblock.stderr).toBe(0);
    await withSession(async (s) => {
      await s.verifyPin('86420135');
      expect(await s.pinStatus()).toEqual({ initialised: true, verified: true });
    });
  });
});
