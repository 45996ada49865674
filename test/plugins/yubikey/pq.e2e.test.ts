/**
 * Post-quantum YubiKey keys end to end (mlkem768p256tag): `--generate --pq` stores an ML-KEM-768
 * seed in the slot certificate; typage encrypts to the age1tagpq1 recipient; the real `age` CLI
 * (Debian 1.1.1) decrypts through our plugin over pcscd + vpcd + the virtual YubiKey; files our
 * recipient-v1 writes decrypt in typage; stanzas for other keys cost no PIN, touch or APDU.
 */
import { expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { p256 } from '@noble/curves/nist.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { Decrypter, Encrypter } from 'age-encryption';
import { tagPqKey } from '../../../src/age/mlkem768p256tagKey.ts';
import { decodeTagPqRecipient, encodeTagPqRecipient } from '../../../src/age/pqKeys.ts';
import { nonInteractiveUi, runRecipientV1 } from '../../../src/age/plugin/client.ts';
import { YubiKeyIdentity } from '../../../src/plugins/yubikey/typage.ts';
import { parseCertificate } from '../../../src/tokens/piv/certificate.ts';
import { openPcsc } from '../../../src/transport/pcsc.ts';
import type { VirtualYubiKey } from '../../../src/sim/yubikey/card.ts';
import { ageOnPty as agePty } from '../../helpers/agePty.ts';
import { describeWithRig, type RigContext } from '../../helpers/rig.ts';
import { DIST, ROOT, run } from '../../helpers/run.ts';
import { findTool, itWith } from '../../helpers/tools.ts';

const age = findTool('age');
const python = findTool('python3');
const ykman = findTool('ykman');
const PLUGIN = `${DIST}/age-plugin-yubikey.mjs`;
const NEW_PIN = '582231';

async function plugin(ctx: RigContext, args: string[], input = '') {
  // After --generate resets the card, pcscd takes a moment to report it again: retry (bounded) while
  // the YubiKey is not seen yet, instead of sleeping a fixed time.
  for (const deadline = Date.now() + 30_000; ; ) {
    const r = await run(process.execPath, [PLUGIN, ...args], { input, env: ctx.env, noTty: true });
    if (Date.now() > deadline || !/Could not find YubiKey|No YubiKey/.test(r.stderr)) return r;
    await new Promise((res) => setTimeout(res, 300));
  }
}

function ageOnPty(ctx: RigContext, args: string[], answers: [RegExp, string][] = [], timeout = 30) {
  return agePty(ctx.env, args, answers, timeout);
}

describeWithRig('post-quantum YubiKey keys (mlkem768p256tag) with the real age CLI and typage', (ctx) => {
  let yk: VirtualYubiKey;
  let pq: { block: string; recipient: string; identity: string };
  let classic: { recipient: string; identity: string };
  let idFile: string;

  itWith([age, python, ykman])('--generate --pq stores the ML-KEM seed in the slot certificate and prints an age1tagpq1 recipient', async () => {
    yk = await ctx.yubikey({ serial: 31415926, version: '5.7.1' });
    const g = await plugin(ctx, ['--generate', '--pq', '--serial', '31415926', '--name', 'pq key'], `123456\n12345678\n${NEW_PIN}\n${NEW_PIN}\n`);
    expect(g.code, g.stderr).toBe(0);
    expect(g.stderr).not.toContain(NEW_PIN);
    const recipient = /#    Recipient: (age1tagpq1\w+)/.exec(g.stdout)![1]!;
    expect(recipient).toHaveLength(2015);
    pq = { block: g.stdout, recipient, identity: /^(AGE-PLUGIN-YUBIKEY-1\w+)$/m.exec(g.stdout)![1]! };
    idFile = join(ctx.dir, 'pq-identity.txt');
    writeFileSync(idFile, pq.block);

    // The certificate on the card carries the critical seed extension; the recipient is ek(seed) ‖ the slot's point.
    // (asynchronously: the virtual YubiKey answers from this process)
    const pem = await run('ykman', ['--device', '31415926', 'piv', 'certificates', 'export', '82', '-'], { env: ctx.env });
    expect(pem.code, pem.stderr).toBe(0);
    const der = Buffer.from(pem.stdout.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    const lines = execFileSync('/usr/bin/python3', [`${ROOT}test/helpers/pq_seed_cert.py`, 'read', der.toString('hex')]).toString().trim().split('\n');
    const seedLine = lines.find((l) => l.startsWith('1.3.6.1.4.1.64829.1.1 critical 0440'))!;
    expect(seedLine).toBeDefined();
    const seed = Buffer.from(seedLine.split(' ')[2]!.slice(4), 'hex');
    const bytes = decodeTagPqRecipient(recipient);
    expect(parseCertificate(new Uint8Array(der)).publicKey).toEqual(bytes.subarray(1184));
    const fromCert = tagPqKey(new Uint8Array(seed), bytes.subarray(1184));
    expect(encodeTagPqRecipient(fromCert.recipient)).toBe(recipient);

    // A classic key beside it, in slot 2, stays classic.
    const c = await plugin(ctx, ['--generate', '--serial', '31415926', '--slot', '2', '--name', 'classic key'], `${NEW_PIN}\n`);
    expect(c.code, c.stderr).toBe(0);
    classic = { recipient: /#    Recipient: (age1yubikey1\w+)/.exec(c.stdout)![1]!, identity: /^(AGE-PLUGIN-YUBIKEY-1\w+)$/m.exec(c.stdout)![1]! };
  });

  itWith([age])('--list shows the post-quantum key in its age1tagpq1 form and the classic key in its classic form', async () => {
    const list = await plugin(ctx, ['--list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(`${pq.recipient}\n`);
    expect(list.stdout).toContain(`${classic.recipient}\n`);
    expect(list.stdout).toContain('#         Name: pq key');
    const json = JSON.parse((await plugin(ctx, ['--list', '--json'])).stdout) as Record<string, unknown>[];
    expect(json).toMatchObject([
      { slot: 1, name: 'pq key', postQuantum: true, recipient: pq.recipient, identity: pq.identity },
      { slot: 2, name: 'classic key', postQuantum: false, recipient: classic.recipient, identity: classic.identity },
    ]);
    const ident = await plugin(ctx, ['--identity', '--serial', '31415926', '--slot', '1']);
    expect(ident.stdout).toBe(pq.block);
  });

  itWith([age, python])('files typage encrypts to the age1tagpq1 recipient decrypt with age -d through the plugin', async () => {
    const e = new Encrypter();
    e.addRecipient(pq.recipient);
    const file = join(ctx.dir, 'typage-pq.age');
    writeFileSync(file, await e.encrypt('harvest now, decrypt never\n'));
    expect(readFileSync(file, 'latin1')).toMatch(/^-> mlkem768p256tag \S{6} \S{1538}$/m);
    const touches = yk.touchRequests;
    const apdus = yk.apduCount;
    const r = await ageOnPty(ctx, ['-d', '-i', idFile, file], [[/Enter PIN for YubiKey with serial 31415926/, NEW_PIN]]);
    expect(r.code, r.stdout).toBe(0);
    expect(yk.apduCount).toBeGreaterThan(apdus); // (the counter the next test relies on does count)
    expect(r.stdout).toContain('harvest now, decrypt never');
    expect(r.stdout).toContain('Touch your YubiKey with serial 31415926');
    expect(yk.touchRequests).toBe(touches + 1);
  });

  itWith([age, python])('a mlkem768p256tag stanza for another key costs no PIN, no touch and no APDU', async () => {
    const other = tagPqKey(randomBytes(64), p256.getPublicKey(p256.utils.randomSecretKey()));
    const e = new Encrypter();
    e.addRecipient(encodeTagPqRecipient(other.recipient));
    const file = join(ctx.dir, 'other.age');
    writeFileSync(file, await e.encrypt('not for this YubiKey\n'));
    const apdus = yk.apduCount;
    const touches = yk.touchRequests;
    const r = await ageOnPty(ctx, ['-d', '-i', idFile, file]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/no identity matched/);
    expect(r.stdout).not.toContain('Enter PIN');
    expect(yk.touchRequests).toBe(touches);
    expect(yk.apduCount).toBe(apdus);
  });

  itWith([age, python])('age -e -i (recipient-v1) writes mlkem768p256tag stanzas that typage decrypts in process and age decrypts through the plugin', async () => {
    const plain = join(ctx.dir, 'plain.txt');
    writeFileSync(plain, 'to the identity\n');
    const f = join(ctx.dir, 'to-identity.age');
    const enc = await run('age', ['-e', '-i', idFile, '-o', f, plain], { env: ctx.env, noTty: true });
    expect(enc.code, enc.stderr).toBe(0);
    expect(readFileSync(f, 'latin1')).toMatch(/^-> mlkem768p256tag \S{6} \S{1538}$/m);
    const readers = await openPcsc();
    try {
      const d = new Decrypter();
      d.addIdentity(new YubiKeyIdentity(pq.identity, { readers, pin: async () => NEW_PIN, message: () => undefined }));
      expect(await d.decrypt(readFileSync(f), 'text')).toBe('to the identity\n');
    } finally {
      await readers.close();
    }
    const dec = await ageOnPty(ctx, ['-d', '-i', idFile, f], [[/Enter PIN/, NEW_PIN]]);
    expect(dec.stdout).toContain('to the identity');
  });

  itWith([])('recipient-v1 answers extension-labels with postquantum, and refuses post-quantum mixed with classic as Go age does', async () => {
    const fileKey = randomBytes(16);
    const opts = { env: ctx.env, grease: true };
    const pqOnly = await runRecipientV1('yubikey', { recipients: [], identities: [pq.identity], fileKeys: [fileKey] }, nonInteractiveUi(), opts);
    expect(pqOnly.labels).toEqual(['postquantum']);
    expect(pqOnly.stanzas[0]!.map((st) => st.type)).toEqual(['mlkem768p256tag']);
    const classicOnly = await runRecipientV1('yubikey', { recipients: [classic.recipient], identities: [], fileKeys: [fileKey] }, nonInteractiveUi(), opts);
    expect(classicOnly.labels).toEqual([]);
    expect(classicOnly.stanzas[0]!.map((st) => st.type)).toEqual(['piv-p256']);
    await expect(
      runRecipientV1('yubikey', { recipients: [classic.recipient], identities: [pq.identity], fileKeys: [fileKey] }, nonInteractiveUi(), opts),
    ).rejects.toThrow("incompatible recipients: can't mix post-quantum and classic recipients, or the file would be vulnerable to quantum computers");
  });

  itWith([age, ykman, python])('a key set up in age-plugin-yubikey PR #215’s layout by other tools (ykman key, pyca/cryptography certificate) is ours', async () => {
    const pub = join(ctx.dir, 'pr215.pem');
    const cert = join(ctx.dir, 'pr215-cert.pem');
    const mlkemSeed = randomBytes(64);
    const gen = await run('ykman', ['--device', '31415926', 'piv', 'keys', 'generate', '-a', 'ECCP256', '--pin-policy', 'ONCE', '--touch-policy', 'CACHED', '-P', NEW_PIN, '84', pub], { env: ctx.env });
    expect(gen.code, gen.stderr).toBe(0);
    execFileSync('/usr/bin/python3', [`${ROOT}test/helpers/pq_seed_cert.py`, 'reference', pub, Buffer.from(mlkemSeed).toString('hex'), 'made like PR 215', cert]);
    const imp = await run('ykman', ['--device', '31415926', 'piv', 'certificates', 'import', '-P', NEW_PIN, '84', cert], { env: ctx.env });
    expect(imp.code, imp.stderr).toBe(0);
    // ykman resets the card when it is done; pcscd reports it again a moment later (bounded poll).
    type Listed = { slot: number; recipient: string; identity: string; postQuantum: boolean; name: string };
    let listed = await plugin(ctx, ['--list', '--json']);
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && !(JSON.parse(listed.stdout || '[]') as Listed[]).some((x) => x.slot === 3); ) {
      await new Promise((res) => setTimeout(res, 300));
      listed = await plugin(ctx, ['--list', '--json']);
    }
    const json = JSON.parse(listed.stdout) as Listed[];
    const k = json.find((x) => x.slot === 3)!;
    expect(k, `${listed.stderr}\n${json.map((x) => x.slot).join(',')}`).toMatchObject({ name: 'made like PR 215', postQuantum: true, pinPolicy: 'once', touchPolicy: 'cached' });
    // The ML-KEM half is FIPS 203 KeyGen(d ‖ z) of the stored seed (noble directly, not our code).
    const { ml_kem768 } = await import('@noble/post-quantum/ml-kem.js');
    expect(decodeTagPqRecipient(k.recipient).subarray(0, 1184)).toEqual(ml_kem768.keygen(mlkemSeed).publicKey);
    const e = new Encrypter();
    e.addRecipient(k.recipient);
    const f = join(ctx.dir, 'pr215.age');
    writeFileSync(f, await e.encrypt('interoperable\n'));
    const idf = join(ctx.dir, 'pr215-id.txt');
    writeFileSync(idf, `${k.identity}\n`);
    const r = await ageOnPty(ctx, ['-d', '-i', idf, f], [[/Enter PIN/, NEW_PIN]]);
    expect(r.stdout).toContain('interoperable');
  });

  itWith([age, python])('the classic key in the next slot still decrypts its piv-p256 files (not changed by the PQ key)', async () => {
    const f = join(ctx.dir, 'classic.age');
    const enc = await run('age', ['-r', classic.recipient, '-o', f, join(ctx.dir, 'plain.txt')], { env: ctx.env });
    expect(enc.code, enc.stderr).toBe(0);
    const cf = join(ctx.dir, 'classic.txt');
    writeFileSync(cf, `${classic.identity}\n`);
    const dec = await ageOnPty(ctx, ['-d', '-i', cf, f], [[/Enter PIN/, NEW_PIN]]);
    expect(dec.stdout).toContain('to the identity');
  });
});
