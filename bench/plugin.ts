/**
 * age-plugin-yubikey and age-plugin-picohsm: the APDUs and time one decryption costs with the PIN already verified, through pcscd + the virtual
 * YubiKey / Pico HSM, driven by keybridge's protocol client like `age -d` would — for a classic
 * YubiKey key (`piv-p256`), a post-quantum one (`mlkem768p256tag`: the seed comes from the
 * certificate) and a Pico HSM X25519 key.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { rigUnavailableReason, startRig } from '../src/rig/pcscd.ts';
import { startVirtualYubiKey } from '../src/sim/yubikey/card.ts';
import { runIdentityV1, runRecipientV1, type ClientUi } from '../src/age/plugin/client.ts';
import { startVirtualPicoHsm } from '../src/sim/picohsm/card.ts';
import { openPcsc } from '../src/transport/pcsc.ts';
import { Encrypter } from 'age-encryption';

const root = fileURLToPath(new URL('..', import.meta.url));
const plugin = join(root, 'dist', 'age-plugin-yubikey.mjs');
const picohsmPlugin = join(root, 'dist', 'age-plugin-picohsm.mjs');
spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });

// Start-up (--version, --help, recipient-v1, identity-v1 up to the first card access) is bench/startup.ts's.
const reason = rigUnavailableReason();
if (reason) {
  console.log(`SKIP APDU count: ${reason}`);
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'keybridge-bench-'));
const bin = join(dir, 'bin');
mkdirSync(bin);
symlinkSync(plugin, join(bin, 'age-plugin-yubikey'));
symlinkSync(picohsmPlugin, join(bin, 'age-plugin-picohsm'));
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
const rig = await startRig();
const yk = await startVirtualYubiKey({ port: rig.ports[0], serial: 424242 });
await rig.waitForCard(0, 'present');
try {
  // Async: the virtual card runs in this process and must keep answering.
  const out = await new Promise<string>((resolve) => {
    const c = spawn(process.execPath, [plugin, '--generate', '--pin-policy', 'once', '--touch-policy', 'never'], { env, detached: true });
    let o = '';
    c.stdout.on('data', (d) => (o += d));
    c.on('close', () => resolve(o));
    c.stdin.end('123456\n12345678\n13572468\n13572468\n');
  });
  const identity = /^AGE-PLUGIN-YUBIKEY-1\w+$/m.exec(out)![0];
  const recipient = /age1yubikey1\w+/.exec(out)![0];
  const pqOut = await new Promise<string>((resolve) => {
    const c = spawn(process.execPath, [plugin, '--generate', '--pq', '--slot', '2', '--pin-policy', 'once', '--touch-policy', 'never'], { env, detached: true });
    let o = '';
    c.stdout.on('data', (d) => (o += d));
    c.on('close', () => resolve(o));
    c.stdin.end('13572468\n');
  });
  const pqIdentity = /^AGE-PLUGIN-YUBIKEY-1\w+$/m.exec(pqOut)![0];
  const ui: ClientUi = { message: async () => undefined, confirm: async () => true, requestValue: async () => '13572468' };
  const fileKey = new Uint8Array(randomBytes(16));
  const measure = async (id: string, to: { recipients: string[]; identities: string[] }) => {
    const { stanzas } = await runRecipientV1('yubikey', { ...to, fileKeys: [fileKey] }, ui, { env });
    await runIdentityV1('yubikey', { identities: [id], files: [stanzas[0]!] }, ui, { env }); // verifies the PIN
    const runs = 10;
    const before = yk.apduCount;
    const t = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) {
      const [k] = await runIdentityV1('yubikey', { identities: [id], files: [stanzas[0]!] }, ui, { env });
      if (!k || Buffer.compare(Buffer.from(k), Buffer.from(fileKey)) !== 0) throw new Error('decryption failed');
    }
    return { apdus: (yk.apduCount - before) / runs, ms: Number(process.hrtime.bigint() - t) / 1e6 / runs };
  };
  const classic = await measure(identity, { recipients: [recipient], identities: [] });
  console.log(`one decryption with the PIN cached: ${classic.apdus} APDUs (SELECT, GET VERSION, GET SERIAL, GET METADATA, VERIFY status, ECDH), ${classic.ms.toFixed(0)} ms per plugin run including process start and PC/SC setup`);
  const pq = await measure(pqIdentity, { recipients: [], identities: [pqIdentity] });
  console.log(`post-quantum (mlkem768p256tag) decryption with the PIN cached: ${pq.apdus} APDUs (the slot certificate with the ML-KEM seed is read too), ${pq.ms.toFixed(0)} ms per plugin run (${(pq.ms / classic.ms).toFixed(2)}x classic)`);

  // Pico HSM, X25519 key, in the rig's second slot. pcscd powers an idle card off (and the PIN
  // state with it) between processes; a connection held open here keeps it powered, as an agent
  // or another application holding the device would.
  const hsm = await startVirtualPicoHsm({ port: rig.ports[1], serial: 'ESPH4242420', initialise: { pin: '13572468', soPin: '3537363231383830' } });
  await new Promise((r) => setTimeout(r, 600));
  const gen = await new Promise<string>((resolve) => {
    const c = spawn(process.execPath, [picohsmPlugin, '--generate', '--label', 'bench', '--key-type', 'x25519', '--serial', 'ESPH4242420'], { env, detached: true });
    let o = '';
    c.stdout.on('data', (d) => (o += d));
    c.on('close', () => resolve(o));
    c.stdin.end('13572468\n');
  });
  const hsmIdentity = /^AGE-PLUGIN-PICOHSM-1\w+$/m.exec(gen)![0];
  const hsmRecipient = /#    Recipient: (age1\S+)/.exec(gen)![1]!;
  const e = new Encrypter();
  e.addRecipient(hsmRecipient);
  const header = Buffer.from(await e.encrypt('bench')).toString('latin1');
  const m = /^-> X25519 (\S+)\n(\S+)$/m.exec(header)!;
  const x25519Stanza = { type: 'X25519', args: [m[1]!], body: new Uint8Array(Buffer.from(m[2]!, 'base64')) };
  const readers = await openPcsc();
  const holder = await readers.connect(rig.readerNames[1]);
  try {
    await runIdentityV1('picohsm', { identities: [hsmIdentity], files: [[x25519Stanza]] }, { ...ui, requestValue: async () => '13572468' }, { env }); // verifies the PIN
    const hsmBefore = hsm.apduCount;
    const t2 = process.hrtime.bigint();
    for (let i = 0; i < 10; i++) {
      const [k] = await runIdentityV1('picohsm', { identities: [hsmIdentity], files: [[x25519Stanza]] }, ui, { env });
      if (!k) throw new Error('Pico HSM decryption failed');
    }
    const hsmMs = Number(process.hrtime.bigint() - t2) / 1e6 / 10;
    console.log(`one decryption with the PIN cached, Pico HSM (X25519 key, stock age1 recipient): ${(hsm.apduCount - hsmBefore) / 10} APDUs (SELECT, VERIFY status, READ BINARY device certificate, ENUMERATE, READ BINARY public key + description per key, VERIFY status, ECDH), ${hsmMs.toFixed(0)} ms per plugin run; YubiKey (classic) above: ${classic.apdus} APDUs, ${classic.ms.toFixed(0)} ms (ratio ${(hsmMs / classic.ms).toFixed(2)}x)`);
  } finally {
    await holder.close();
    await readers.close();
    await hsm.stop();
  }
} finally {
  await yk.stop();
  await rig.stop();
  rmSync(dir, { recursive: true, force: true });
}
