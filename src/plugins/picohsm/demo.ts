/**
 * The Pico HSM's `keybridge demo` step: a virtual one (keybridge's virtual SmartCard-HSM over
 * vpcd). Generate an X25519 key on it with age-plugin-picohsm, encrypt to its plain age1…
 * recipient with stock age (no plugin involved), decrypt with `age -d` through the plugin (PIN
 * typed on a terminal).
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { startVirtualPicoHsm } from '../../sim/picohsm/card.ts';
import { token } from '../../sim/picohsm/token.ts';
import { ageDecrypt, ageEncrypt, generateIdentity, pluginEnv } from '../../demo/age.ts';
import { exec } from '../../demo/exec.ts';
import { withVirtualCard } from '../../demo/pcscd.ts';
import type { DemoStep } from '../../demo/step.ts';

export const demo: DemoStep = {
  order: 20,
  help: `  - plug a virtual Pico HSM, generate an X25519 key on it with age-plugin-picohsm, encrypt with
    stock age (no plugin), decrypt with age -d through the plugin
`,
  async run(dir, report) {
    report.heading('Plug in a virtual Pico HSM (pcscd + vpcd + keybridge sim picohsm)');
    const serial = `ESPH${randomInt(1_000_000, 9_999_999)}`;
    const pin = String(randomInt(10_000_000, 99_999_999));
    const soPin = Array.from({ length: 16 }, () => '0123456789ABCDEF'[randomInt(16)]).join('');
    const plug = (port: number) => startVirtualPicoHsm({ port, serial, statePath: join(dir, 'virtual-picohsm.json'), initialise: { pin, soPin } });
    await withVirtualCard(report, { label: 'virtual Pico HSM', reader: token.reader }, plug, async (hsm) => {
      report.command(['keybridge', 'sim', 'picohsm', '--serial', serial, '--state', 'virtual-picohsm.json']);
      report.info('(initialised like `sc-hsm-tool --initialize --so-pin … --pin …`, with a random PIN and SO-PIN)');
      const env = pluginEnv(dir, 'age-plugin-picohsm');
      try {
        const name = await exec('opensc-tool', ['-n'], { env });
        report.command(['opensc-tool', '-n']);
        report.info(name.stdout.toString().trim());
      } catch {
        report.info('(OpenSC is not installed: skipping its view of the device)');
      }

      report.heading('Generate an X25519 key on the Pico HSM (age-plugin-picohsm --generate --key-type x25519)');
      const identity = join(dir, 'picohsm-identity.txt');
      const recipient = await generateIdentity(report, {
        argv: ['age-plugin-picohsm', '--generate', '--label', 'keybridge demo', '--key-type', 'x25519', '--serial', serial],
        note: '(the demo types the PIN)',
        input: `${pin}\n`,
        env,
        file: identity,
        recipient: /#    Recipient: (age1\S+)/,
      });

      report.heading('Encrypt with stock age to the plain age1… recipient (no plugin involved)');
      const stockAge = { ...process.env, PATH: '/usr/bin:/bin' };
      const file = await ageEncrypt(report, { dir, name: 'hsm-secret.txt', text: 'api token: 7f3e-pico-hsm\n', recipient, env: stockAge, stanza: '-> X25519' });

      report.heading('Decrypt with age -d through the plugin (PIN on the terminal, ECDH on the device)');
      await ageDecrypt(report, { identity, file, pin, env, expected: 'api token: 7f3e-pico-hsm' });
      report.ok(`decrypted with the virtual Pico HSM (serial ${serial}); it saw ${hsm.apduCount} APDUs in all`);
    });
  },
};
