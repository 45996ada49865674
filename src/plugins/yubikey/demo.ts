/**
 * The YubiKey's `keybridge demo` step: a virtual YubiKey (keybridge's, over pcscd + vpcd) unless
 * the machine already runs pcscd, in which case the virtual card plugs into that pcscd's vpcd
 * reader. A real YubiKey is never modified by the demo.
 *
 * Generate an identity with age-plugin-yubikey, encrypt to it with the real `age`, decrypt with
 * `age -d` through the plugin (PIN typed on a terminal), and show that ykman sees the card.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { startVirtualYubiKey } from '../../sim/yubikey/card.ts';
import { token } from '../../sim/yubikey/token.ts';
import { ageDecrypt, ageEncrypt, generateIdentity, pluginEnv } from '../../demo/age.ts';
import { exec } from '../../demo/exec.ts';
import { withVirtualCard } from '../../demo/pcscd.ts';
import type { DemoStep } from '../../demo/step.ts';

export const demo: DemoStep = {
  order: 10,
  help: `  - plug a virtual YubiKey into pcscd (no hardware needed; a real token is never modified)
  - generate an age identity on it with age-plugin-yubikey
  - encrypt with the real age CLI and decrypt with age -d through the plugin
`,
  async run(dir, report) {
    report.heading('Plug in a virtual YubiKey (pcscd + vpcd + keybridge sim)');
    const serial = 10_000_000 + randomInt(89_999_999);
    const plug = (port: number) => startVirtualYubiKey({ port, serial, version: '5.7.1', statePath: join(dir, 'virtual-yubikey.json') });
    await withVirtualCard(report, { label: 'virtual YubiKey', reader: token.reader }, plug, async (yk) => {
      report.command(['keybridge', 'sim', 'yubikey', '--serial', String(serial), '--state', 'virtual-yubikey.json']);
      const env = pluginEnv(dir, 'age-plugin-yubikey');

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
      const identity = join(dir, 'yubikey-identity.txt');
      const recipient = await generateIdentity(report, {
        argv: ['age-plugin-yubikey', '--generate', '--serial', String(serial), '--name', 'keybridge demo', '--pin-policy', 'once', '--touch-policy', 'always'],
        note: '(the demo answers the prompts: default PIN 123456, default PUK 12345678, then a new random PIN)',
        input: `123456\n12345678\n${pin}\n${pin}\n`,
        env,
        file: identity,
        recipient: /#    Recipient: (age1yubikey1\w+)/,
      });

      report.heading('Encrypt to the YubiKey with the real age CLI');
      const file = await ageEncrypt(report, { dir, name: 'secret.txt', text: 'database password: correct horse battery staple\n', recipient, env, stanza: '-> piv-p256' });

      report.heading('Decrypt with age -d through the plugin (PIN on the terminal, touch on the card)');
      await ageDecrypt(report, { identity, file, pin, env, expected: 'correct horse battery staple' });
      report.ok(`decrypted with the virtual YubiKey (serial ${serial}); the card saw ${yk.touchRequests} touches (certificate signing and decryption) and ${yk.apduCount} APDUs in all`);
    });
  },
};
