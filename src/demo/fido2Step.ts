/**
 * Demo steps on a FIDO2 key: keybridge's virtual CTAP2 authenticator on TCP (the Pico FIDO
 * emulator's framing; no USB, no root), a PIN set on it, an identity generated with
 * age-plugin-fido2-hmac, a file encrypted to its native age1 recipient with the real `age`, and
 * decrypted with `age -d` through the plugin (PIN typed on a terminal, the touch message naming
 * the key). A real FIDO2 key is never touched: KEYBRIDGE_FIDO2_TCP makes the virtual key the only
 * one the plugin sees.
 */
import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startVirtualFido2 } from '../sim/fido2/server.ts';
import { CtapHidDevice } from '../transport/ctaphid.ts';
import { Ctap2Session } from '../tokens/ctap2/session.ts';
import { distDir } from './paths.ts';
import { DemoStepError, exec } from './exec.ts';
import type { DemoReport } from './report.ts';

export async function fido2Step(dir: string, report: DemoReport): Promise<void> {
  report.heading('Plug in a virtual FIDO2 key (keybridge sim fido2: CTAP 2.1 over CTAPHID on TCP)');
  const key = await startVirtualFido2({ port: 0, statePath: join(dir, 'virtual-fido2.json'), name: 'keybridge demo key' });
  try {
    report.command(['keybridge', 'sim', 'fido2', '--port', String(key.port), '--state', 'virtual-fido2.json']);
    const pin = String(randomInt(100000, 999999));
    const s = await Ctap2Session.open(await CtapHidDevice.open(key.device()));
    await s.setPin(pin);
    await s.close();
    report.info(`a random PIN is set on the key (authenticatorClientPIN setPIN, PIN/UV auth protocol ${s.pinProtocol.version})`);

    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    if (!existsSync(join(bin, 'age-plugin-fido2-hmac'))) symlinkSync(join(distDir(), 'age-plugin-fido2-hmac.mjs'), join(bin, 'age-plugin-fido2-hmac'));
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, KEYBRIDGE_FIDO2_TCP: key.endpoint! };
    report.info(`export KEYBRIDGE_FIDO2_TCP=${key.endpoint}   # the plugin sees this key and no other`);

    report.heading('Generate an age identity on the FIDO2 key (age-plugin-fido2-hmac -g)');
    const gen = ['age-plugin-fido2-hmac', '-g'];
    report.command(gen);
    report.info('(the demo answers the questions: the PIN, "require a PIN for decryption?" yes, "separate identity?" yes)');
    const generated = await exec(gen[0]!, gen.slice(1), { env, noTty: true, input: `${pin}\ny\ny\n` });
    const block = generated.stdout.toString();
    const identityFile = join(dir, 'fido2-identity.txt');
    writeFileSync(identityFile, block, { mode: 0o600 });
    report.info(block.replace(/^(AGE-PLUGIN-FIDO2-HMAC-1.{20}).*$/m, '$1…'));
    const recipient = /^# public key: (age1\w+)$/m.exec(block)?.[1];
    if (!recipient) throw new DemoStepError('age-plugin-fido2-hmac printed no public key');

    report.heading('Encrypt to the FIDO2 identity with the real age CLI (a native X25519 recipient: no plugin, no key)');
    const plain = join(dir, 'fido2-secret.txt');
    writeFileSync(plain, 'api token: 7f3c-demo-only\n');
    const enc = ['age', '-r', recipient, '-o', join(dir, 'fido2-secret.txt.age'), plain];
    report.command(enc);
    await exec(enc[0]!, enc.slice(1), { env });
    const header = readFileSync(join(dir, 'fido2-secret.txt.age'), 'latin1').split('\n').find((l) => l.startsWith('-> X25519'));
    report.info(`header stanza: ${header}`);

    report.heading('Decrypt with age -d through age-plugin-fido2-hmac (PIN on the terminal, touch on the key)');
    const dec = ['age', '-d', '-i', identityFile, join(dir, 'fido2-secret.txt.age')];
    report.command(dec);
    const touches: string[] = [];
    const stop = key.onEvent((e) => e.type === 'touch-requested' && touches.push(e.command));
    const out = await exec('python3', [join(distDir(), '..', 'scripts', 'pty-run.py'), '--timeout', '30', '--expect', 'PIN for', '--send', '@env', '--', ...dec], {
      env: { ...env, PTY_SEND_1: pin },
      noTty: true,
    });
    stop();
    const transcript = out.stdout.toString().replace(/\r/g, '').replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
    if (!transcript.includes('api token: 7f3c-demo-only')) throw new DemoStepError(`decryption through the FIDO2 plugin failed:\n${transcript}`);
    report.info(transcript.split('\n').filter((l) => l.trim()).map((l) => (/PIN for/.test(l) ? `${l.trim()} ******` : l)).join('\n'));
    report.ok(`decrypted with the virtual FIDO2 key: it was probed silently, then asked for the PIN and ${touches.length} touch (hmac-secret)`);
  } finally {
    await key.stop();
  }
}
