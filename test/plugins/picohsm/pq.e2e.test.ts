/**
 * Post-quantum Pico HSM keys end to end (mlkem768p256tag): `--generate --pq` makes a P-256 key on
 * the device and keeps its ML-KEM-768 seed in a PIN-protected data object (the encapsulation key
 * in a public one); typage encrypts to the age1tagpq1 recipient; the real `age` CLI (Debian
 * 1.1.1) decrypts through age-plugin-picohsm over pcscd + vpcd + the virtual Pico HSM; files our
 * recipient-v1 writes decrypt in typage; a stanza for another key costs no PIN and no button press.
 */
import { expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { p256 } from '@noble/curves/nist.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { Decrypter, Encrypter } from 'age-encryption';
import { tagPqKey } from '../../../src/age/mlkem768p256tagKey.ts';
import { decodeTagPqRecipient, encodeTagPqRecipient } from '../../../src/age/pqKeys.ts';
import { PicoHsmIdentity } from '../../../src/plugins/picohsm/typage.ts';
import { ScHsmSession } from '../../../src/tokens/schsm/session.ts';
import { openPcsc } from '../../../src/transport/pcsc.ts';
import { startVirtualPicoHsm, type VirtualPicoHsm } from '../../../src/sim/picohsm/card.ts';
import { ageOnPty as agePty } from '../../helpers/agePty.ts';
import { describeWithRig, type RigContext } from '../../helpers/rig.ts';
import { DIST, run } from '../../helpers/run.ts';
import { findTool, itWith } from '../../helpers/tools.ts';

const age = findTool('age');
const python = findTool('python3');
const PLUGIN = `${DIST}/age-plugin-picohsm.mjs`;
const PIN = '86420975';
const SO_PIN = '3537363231383830';

function plugin(ctx: RigContext, args: string[], input = '') {
  return run(process.execPath, [PLUGIN, ...args], { input, env: ctx.env, noTty: true, timeoutMs: 30000 });
}

function ageOnPty(ctx: RigContext, args: string[], answers: [RegExp, string][] = [], timeout = 30) {
  return agePty(ctx.env, args, answers, timeout);
}

describeWithRig('post-quantum Pico HSM keys (mlkem768p256tag) with the real age CLI and typage', (ctx) => {
  let hsm: VirtualPicoHsm;
  let pq: { recipient: string; identity: string; file: string };

  itWith([age, python])('--generate --pq: a P-256 device key with an ML-KEM seed beside it, recipient age1tagpq1', async () => {
    hsm = await ctx.plug((port) => startVirtualPicoHsm({ port, serial: 'ESPQ1000001', statePath: join(ctx.dir, 'hsm.json'), initialise: { pin: PIN, soPin: SO_PIN } }));
    const r = await plugin(ctx, ['--generate', '--label', 'pq key', '--pq'], `${PIN}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(PIN);
    expect(r.stdout).toContain('#     Key type: P-256 + ML-KEM-768 (post-quantum, mlkem768p256tag)');
    const recipient = /^#    Recipient: (age1tagpq1\w+)$/m.exec(r.stdout)![1]!;
    expect(recipient).toHaveLength(2015);
    const identity = /^(AGE-PLUGIN-PICOHSM-1\w+)$/m.exec(r.stdout)![1]!;
    const file = join(ctx.dir, 'pq.txt');
    writeFileSync(file, r.stdout);
    pq = { recipient, identity, file };

    // The ML-KEM seed is readable only after the PIN; the encapsulation key without it, and it is KeyGen(seed).
    await hsm.remove(); // a fresh card session: the PIN no longer verified
    await ctx.unplugged(0);
    hsm = await ctx.plug((port) => startVirtualPicoHsm({ port, statePath: join(ctx.dir, 'hsm.json') }));
    const readers = await openPcsc();
    try {
      const [name] = await readers.list();
      const session = new ScHsmSession(await readers.connect(name!));
      await session.select();
      const ek = await session.readFile(0xcf01);
      await expect(session.readFile(0xcd01)).rejects.toThrow();
      await session.verifyPin(PIN);
      const seed = (await session.readFile(0xcd01)).subarray(5);
      expect(ek.subarray(5)).toEqual(ml_kem768.keygen(seed).publicKey);
      expect(decodeTagPqRecipient(recipient).subarray(0, 1184)).toEqual(ek.subarray(5));
    } finally {
      await readers.close();
    }
    await expect(plugin(ctx, ['--generate', '--label', 'x', '--pq', '--key-type', 'x25519'])).resolves.toMatchObject({ code: 2 });
  });

  itWith([age])('--list shows the key in its age1tagpq1 form only', async () => {
    const list = await plugin(ctx, ['--list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(`${pq.recipient}\n`);
    expect(list.stdout).not.toMatch(/age1picohsm1|age1tag1/);
    const json = JSON.parse((await plugin(ctx, ['--list', '--json'])).stdout);
    expect(json).toMatchObject([{ label: 'pq key', postQuantum: true, recipient: pq.recipient, identity: pq.identity }]);
    expect(json[0].tagRecipient).toBeUndefined();
  });

  itWith([age, python])('files typage encrypts to the age1tagpq1 recipient decrypt with age -d through the plugin', async () => {
    const e = new Encrypter();
    e.addRecipient(pq.recipient);
    const f = join(ctx.dir, 'typage.age');
    writeFileSync(f, await e.encrypt('post-quantum on a Pico HSM\n'));
    expect(readFileSync(f, 'latin1')).toMatch(/^-> mlkem768p256tag \S{6} \S{1538}$/m);
    const r = await ageOnPty(ctx, ['-d', '-i', pq.file, f], [[/Enter PIN for Pico HSM with key "pq key"/, PIN]]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('post-quantum on a Pico HSM');
  });

  itWith([age, python])('a mlkem768p256tag stanza for another key costs no PIN and no button press', async () => {
    hsm.setButton('deny'); // any ECDH attempt would fail loudly
    const other = tagPqKey(randomBytes(64), p256.getPublicKey(p256.utils.randomSecretKey()));
    const e = new Encrypter();
    e.addRecipient(encodeTagPqRecipient(other.recipient));
    const f = join(ctx.dir, 'other.age');
    writeFileSync(f, await e.encrypt('not for this device\n'));
    const r = await ageOnPty(ctx, ['-d', '-i', pq.file, f]);
    hsm.setButton('off');
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/no identity matched/);
    expect(r.stdout).not.toContain('Enter PIN');
    expect(r.stdout).not.toContain('Press the button');
  });

  itWith([age, python])('age -e -i (recipient-v1) writes mlkem768p256tag stanzas; typage decrypts them in process', async () => {
    const plain = join(ctx.dir, 'plain.txt');
    writeFileSync(plain, 'to the identity\n');
    const f = join(ctx.dir, 'to-identity.age');
    const enc = await run('age', ['-e', '-i', pq.file, '-o', f, plain], { env: ctx.env, noTty: true });
    expect(enc.code, enc.stderr).toBe(0);
    expect(readFileSync(f, 'latin1')).toMatch(/^-> mlkem768p256tag \S{6} \S{1538}$/m);
    const readers = await openPcsc();
    try {
      const d = new Decrypter();
      d.addIdentity(new PicoHsmIdentity(pq.identity, { readers, pin: async () => PIN }));
      expect(await d.decrypt(readFileSync(f), 'text')).toBe('to the identity\n');
    } finally {
      await readers.close();
    }
  });
});
