/**
 * Demo steps on a YubiKey: a virtual one (pcscd + vpcd + keybridge's virtual YubiKey) unless the
 * machine already runs pcscd, in which case the virtual card plugs into that pcscd's vpcd reader.
 * A real YubiKey is never modified by the demo.
 *
 * Generate an identity with age-plugin-yubikey, encrypt to it with the real `age`, decrypt with
 * `age -d` through the plugin (PIN typed on a terminal), and show that ykman sees the card.
 */
import { mkdirSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { startVirtualYubiKey, type VirtualYubiKey } from '../sim/yubikey/card.ts';
import { distDir } from './paths.ts';
import { DemoStepError, exec } from './exec.ts';
import { ageDecryptOnPty, demoPcscd, tokenSeen } from './pcscd.ts';
import type { DemoReport } from './report.ts';

export interface YubiKeyStage {
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function yubikeyStep(dir: string, report: DemoReport): Promise<void> {
  report.heading('Plug in a virtual YubiKey (pcscd + vpcd + keybridge sim)');
  const { port, rig } = await demoPcscd(report, 'virtual YubiKey');
  const serial = 10_000_000 + randomInt(89_999_999);
  let yk: VirtualYubiKey | null = null;
  try {
    yk = await startVirtualYubiKey({ port, serial, version: '5.7.1', statePath: join(dir, 'virtual-yubikey.json') });
    await tokenSeen(rig);
    report.command(['keybridge', 'sim', 'yubikey', '--serial', String(serial), '--state', 'virtual-yubikey.json']);

    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(join(distDir(), 'age-plugin-yubikey.mjs'), join(bin, 'age-plugin-yubikey'));
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };

    try {
      const info = await exec('ykman', ['--device', String(serial), 'info'], { env });
      report.command(['ykman', '--device', String(serial), 'info']);
      report.info(info.stdout.toString().split('\n').slice(0, 3).join('\n'));
    } catch (e) {
      report.info(/not installed/.test((e as Error).message) ? '(ykman is not installed: skipping its view of the card)' : "(ykman does not list this reader: only readers named like a YubiKey's are; the plugin does not care)");
    }

    // Real YubiKeys on this machine are only listed, never changed.
    try {
      const listed = JSON.parse((await exec('age-plugin-yubikey', ['--list-all', '--json'], { env, noTty: true })).stdout.toString()) as { serial: number; slot: number; recipient: string }[];
      const real = listed.filter((k) => k.serial !== serial);
      if (real.length) {
        report.info('A real YubiKey is plugged in too; the demo only lists its age keys and does not modify it:');
        for (const k of real) report.info(`  serial ${k.serial}, slot ${k.slot}: ${k.recipient}`);
      }
    } catch {
      /* listing real keys is a courtesy */
    }

    report.heading('Generate an age identity on the YubiKey (age-plugin-yubikey --generate)');
    const pin = String(randomInt(100000, 999999));
    const gen = ['age-plugin-yubikey', '--generate', '--serial', String(serial), '--name', 'keybridge demo', '--pin-policy', 'once', '--touch-policy', 'always'];
    report.command(gen);
    report.info('(the demo answers the prompts: default PIN 123456, default PUK 12345678, then a new random PIN)');
    const generated = await exec(gen[0]!, gen.slice(1), { env, noTty: true, input: `123456\n12345678\n${pin}\n${pin}\n` });
    const block = generated.stdout.toString();
    const identityFile = join(dir, 'yubikey-identity.txt');
    writeFileSync(identityFile, block, { mode: 0o600 });
    report.info(block);
    const recipient = /#    Recipient: (age1yubikey1\w+)/.exec(block)?.[1];
    if (!recipient) throw new DemoStepError('age-plugin-yubikey printed no recipient');

    report.heading('Encrypt to the YubiKey with the real age CLI');
    const plain = join(dir, 'secret.txt');
    writeFileSync(plain, 'database password: correct horse battery staple\n');
    const enc = ['age', '-r', recipient, '-o', join(dir, 'secret.txt.age'), plain];
    report.command(enc);
    await exec(enc[0]!, enc.slice(1), { env });
    const header = readFileSync(join(dir, 'secret.txt.age'), 'latin1').split('\n').find((l) => l.startsWith('-> piv-p256'));
    report.info(`header stanza: ${header}`);

    report.heading('Decrypt with age -d through the plugin (PIN on the terminal, touch on the card)');
    const dec = ['age', '-d', '-i', identityFile, join(dir, 'secret.txt.age')];
    report.command(dec);
    report.info(await ageDecryptOnPty(dec.slice(1), pin, env, 'correct horse battery staple'));
    report.ok(`decrypted with the virtual YubiKey (serial ${serial}); the card saw ${yk.touchRequests} touches (certificate signing and decryption) and ${yk.apduCount} APDUs in all`);
  } finally {
    await yk?.stop().catch(() => undefined);
    await rig?.stop();
  }
}
