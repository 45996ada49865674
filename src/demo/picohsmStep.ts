/**
 * Demo step on a Pico HSM: a virtual one (keybridge's virtual SmartCard-HSM over vpcd). Generate an
 * X25519 key on it with age-plugin-picohsm, encrypt to its plain age1… recipient with stock age
 * (no plugin involved), decrypt with `age -d` through the plugin (PIN typed on a terminal).
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { token } from '../sim/picohsm/token.ts';
import { startVirtualPicoHsm, type VirtualPicoHsm } from '../sim/picohsm/card.ts';
import { ageDecryptOnPty, demoPcscd, tokenSeen } from './pcscd.ts';
import { DemoStepError, exec } from './exec.ts';
import { distDir } from './paths.ts';
import type { DemoReport } from './report.ts';

export async function picohsmStep(dir: string, report: DemoReport): Promise<void> {
  report.heading('Plug in a virtual Pico HSM (pcscd + vpcd + keybridge sim picohsm)');
  const { port, rig } = await demoPcscd(report, 'virtual Pico HSM', token.reader);
  const serial = `ESPH${randomInt(1_000_000, 9_999_999)}`;
  const pin = String(randomInt(10_000_000, 99_999_999));
  const soPin = Array.from({ length: 16 }, () => '0123456789ABCDEF'[randomInt(16)]).join('');
  let hsm: VirtualPicoHsm | null = null;
  try {
    hsm = await startVirtualPicoHsm({ port, serial, statePath: join(dir, 'virtual-picohsm.json'), initialise: { pin, soPin } });
    await tokenSeen(rig);
    report.command(['keybridge', 'sim', 'picohsm', '--serial', serial, '--state', 'virtual-picohsm.json']);
    report.info('(initialised like `sc-hsm-tool --initialize --so-pin … --pin …`, with a random PIN and SO-PIN)');
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    if (!existsSync(join(bin, 'age-plugin-picohsm'))) symlinkSync(join(distDir(), 'age-plugin-picohsm.mjs'), join(bin, 'age-plugin-picohsm'));
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
    try {
      const name = await exec('opensc-tool', ['-n'], { env });
      report.command(['opensc-tool', '-n']);
      report.info(name.stdout.toString().trim());
    } catch {
      report.info('(OpenSC is not installed: skipping its view of the device)');
    }

    report.heading('Generate an X25519 key on the Pico HSM (age-plugin-picohsm --generate --key-type x25519)');
    const gen = ['age-plugin-picohsm', '--generate', '--label', 'keybridge demo', '--key-type', 'x25519', '--serial', serial];
    report.command(gen);
    report.info('(the demo types the PIN)');
    const generated = await exec(gen[0]!, gen.slice(1), { env, noTty: true, input: `${pin}\n` });
    const block = generated.stdout.toString();
    const identityFile = join(dir, 'picohsm-identity.txt');
    writeFileSync(identityFile, block, { mode: 0o600 });
    report.info(block);
    const recipient = /#    Recipient: (age1\S+)/.exec(block)?.[1];
    if (!recipient) throw new DemoStepError('age-plugin-picohsm printed no recipient');

    report.heading('Encrypt with stock age to the plain age1… recipient (no plugin involved)');
    const plain = join(dir, 'hsm-secret.txt');
    writeFileSync(plain, 'api token: 7f3e-pico-hsm\n');
    const enc = ['age', '-r', recipient, '-o', join(dir, 'hsm-secret.txt.age'), plain];
    report.command(enc);
    await exec(enc[0]!, enc.slice(1), { env: { ...process.env, PATH: '/usr/bin:/bin' } });
    const header = readFileSync(join(dir, 'hsm-secret.txt.age'), 'latin1').split('\n').find((l) => l.startsWith('-> X25519'));
    report.info(`header stanza: ${header}`);

    report.heading('Decrypt with age -d through the plugin (PIN on the terminal, ECDH on the device)');
    const dec = ['-d', '-i', identityFile, join(dir, 'hsm-secret.txt.age')];
    report.command(['age', ...dec]);
    report.info(await ageDecryptOnPty(dec, pin, env, 'api token: 7f3e-pico-hsm'));
    report.ok(`decrypted with the virtual Pico HSM (serial ${serial}); it saw ${hsm.apduCount} APDUs in all`);
  } finally {
    await hsm?.stop().catch(() => undefined);
    await rig?.stop();
  }
}
