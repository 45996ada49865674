/**
 * The FIDO2 key's `keybridge demo` step: keybridge's virtual CTAP2 authenticator on TCP (the Pico
 * FIDO emulator's framing; no USB, no root), a PIN set on it, an identity generated with
 * age-plugin-fido2-hmac, a file encrypted to its native age1 recipient with the real `age`, and
 * decrypted with `age -d` through the plugin (PIN typed on a terminal, the touch message naming
 * the key). A real FIDO2 key is never touched: KEYBRIDGE_FIDO2_TCP makes the virtual key the only
 * one the plugin sees.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { startVirtualFido2 } from '../../sim/fido2/server.ts';
import { CtapHidDevice } from '../../transport/ctaphid.ts';
import { Ctap2Session } from '../../tokens/ctap2/session.ts';
import { ageDecrypt, ageEncrypt, generateIdentity, pluginEnv } from '../../demo/age.ts';
import type { DemoStep } from '../../demo/step.ts';

export const demo: DemoStep = {
  order: 30,
  help: `  - the same with a virtual FIDO2 key (CTAP2 hmac-secret) and age-plugin-fido2-hmac
`,
  async run(dir, report) {
    report.heading('Plug in a virtual FIDO2 key (keybridge sim fido2: CTAP 2.1 over CTAPHID on TCP)');
    const key = await startVirtualFido2({ port: 0, statePath: join(dir, 'virtual-fido2.json'), name: 'keybridge demo key' });
    try {
      report.command(['keybridge', 'sim', 'fido2', '--port', String(key.port), '--state', 'virtual-fido2.json']);
      const pin = String(randomInt(100000, 999999));
      const s = await Ctap2Session.open(await CtapHidDevice.open(key.device()));
      await s.setPin(pin);
      await s.close();
      report.info(`a random PIN is set on the key (authenticatorClientPIN setPIN, PIN/UV auth protocol ${s.pinProtocol.version})`);

      const env = pluginEnv(dir, 'age-plugin-fido2-hmac', { KEYBRIDGE_FIDO2_TCP: key.endpoint! });
      report.info(`export KEYBRIDGE_FIDO2_TCP=${key.endpoint}   # the plugin sees this key and no other`);

      report.heading('Generate an age identity on the FIDO2 key (age-plugin-fido2-hmac -g)');
      const identity = join(dir, 'fido2-identity.txt');
      const recipient = await generateIdentity(report, {
        argv: ['age-plugin-fido2-hmac', '-g'],
        note: '(the demo answers the questions: the PIN, "require a PIN for decryption?" yes, "separate identity?" yes)',
        input: `${pin}\ny\ny\n`,
        env,
        file: identity,
        recipient: /^# public key: (age1\w+)$/m,
        recipientName: 'public key',
        show: (block) => block.replace(/^(AGE-PLUGIN-FIDO2-HMAC-1.{20}).*$/m, '$1…'),
      });

      report.heading('Encrypt to the FIDO2 identity with the real age CLI (a native X25519 recipient: no plugin, no key)');
      const file = await ageEncrypt(report, { dir, name: 'fido2-secret.txt', text: 'api token: 7f3c-demo-only\n', recipient, env, stanza: '-> X25519' });

      report.heading('Decrypt with age -d through age-plugin-fido2-hmac (PIN on the terminal, touch on the key)');
      const touches: string[] = [];
      const stop = key.onEvent((e) => e.type === 'touch-requested' && touches.push(e.command));
      await ageDecrypt(report, { identity, file, pin, env, expected: 'api token: 7f3c-demo-only', prompt: 'PIN for' });
      stop();
      report.ok(`decrypted with the virtual FIDO2 key: it was probed silently, then asked for the PIN and ${touches.length} touch (hmac-secret)`);
    } finally {
      await key.stop();
    }
  },
};
