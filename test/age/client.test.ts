/**
 * The client side and typage adapters, against plugins built on the framework: the dummy test
 * plugin and age-plugin-yubikey (recipient-v1 needs no card). The real age CLI drives the same
 * dummy plugin, including a request-secret answered on a pty.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { bech32, hex } from '@scure/base';
import { p256 } from '@noble/curves/nist.js';
import { Decrypter, Encrypter } from 'age-encryption';
import { findPlugin, pluginNameOf, runIdentityV1, runRecipientV1, type ClientUi } from '../../src/age/plugin/client.ts';
import { pluginIdentity, pluginRecipient } from '../../src/age/plugin/typage.ts';
import { parsePivP256, unwrapPivP256 } from '../../src/plugins/yubikey/pivP256.ts';
import { DIST, ROOT, run } from '../helpers/run.ts';
import { findTool, itWith } from '../helpers/tools.ts';

const RECIPIENT = bech32.encode('age1dummy', bech32.toWords(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)), false);
const IDENTITY = bech32.encode('age-plugin-dummy-', bech32.toWords(Uint8Array.of(0x0a)), false).toUpperCase();
const IDENTITY_PIN = bech32.encode('age-plugin-dummy-', bech32.toWords(Uint8Array.of(1)), false).toUpperCase();

let dir: string;
let env: NodeJS.ProcessEnv;

function recordingUi(secret = '4321'): ClientUi & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    async message(p, t) {
      log.push(`msg ${p}: ${t}`);
    },
    async confirm() {
      return true;
    },
    async requestValue(p, prompt, isSecret) {
      log.push(`${isSecret ? 'secret' : 'public'} ${p}: ${prompt}`);
      return secret;
    },
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keybridge-client-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  await build({ entryPoints: [`${ROOT}test/helpers/dummy-plugin.ts`], outfile: join(bin, 'age-plugin-dummy'), bundle: true, platform: 'node', format: 'esm', banner: { js: '#!/usr/bin/env node' }, logLevel: 'warning' });
  chmodSync(join(bin, 'age-plugin-dummy'), 0o755);
  symlinkSync(`${DIST}/age-plugin-yubikey.cjs`, join(bin, 'age-plugin-yubikey'));
  writeFileSync(join(bin, 'age-plugin-mute'), '#!/bin/sh\nsleep 30\n');
  chmodSync(join(bin, 'age-plugin-mute'), 0o755);
  writeFileSync(join(bin, 'age-plugin-crash'), '#!/bin/sh\necho "boom: no card" >&2\nexit 3\n');
  chmodSync(join(bin, 'age-plugin-crash'), 0o755);
  await build({ entryPoints: [`${ROOT}test/helpers/decrypt-with-plugin.ts`], outfile: join(dir, 'decrypt-with-plugin.mjs'), bundle: true, platform: 'node', format: 'esm', logLevel: 'warning' });
  env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
});

describe('client side', () => {
  it('finds plugins on absolute PATH entries only, never in the working directory', () => {
    expect(findPlugin('dummy', env)).toBe(join(dir, 'bin', 'age-plugin-dummy'));
    expect(() => findPlugin('dummy', { PATH: `.:bin:${join(dir, 'nothing')}` })).toThrow(/not found on PATH/);
    expect(() => findPlugin('../evil', env)).toThrow(/invalid plugin name/);
    expect(pluginNameOf(RECIPIENT)).toBe('dummy');
    expect(pluginNameOf(IDENTITY)).toBe('dummy');
    expect(pluginNameOf('AGE-PLUGIN-FIDO2-HMAC-188VDVA')).toBe('fido2-hmac');
  });

  it('recipient-v1 and identity-v1 with the dummy plugin (grease on), messages and secrets through the UI', async () => {
    const fileKeys = [Uint8Array.from({ length: 16 }, (_, i) => i), new Uint8Array(16).fill(7)];
    const { stanzas } = await runRecipientV1('dummy', { recipients: [RECIPIENT], identities: [], fileKeys }, recordingUi(), { env });
    expect(stanzas.map((f) => f.map((s) => `${s.type} ${s.args.join(' ')} ${hex.encode(s.body)}`))).toEqual(fileKeys.map((k) => [`dummy tag123 ${hex.encode(k)}`]));
    const ui = recordingUi();
    const keys = await runIdentityV1('dummy', { identities: [IDENTITY_PIN], files: [stanzas[0]!, [{ type: 'X25519', args: ['x'], body: new Uint8Array(32) }], stanzas[1]!] }, ui, { env });
    expect(keys.map((k) => (k ? hex.encode(k) : null))).toEqual([hex.encode(fileKeys[0]!), null, hex.encode(fileKeys[1]!)]);
    expect(ui.log).toEqual(['msg dummy: hello from dummy plugin', 'secret dummy: Dummy PIN']);
    await expect(runIdentityV1('dummy', { identities: [IDENTITY_PIN], files: [stanzas[0]!] }, recordingUi('0000'), { env })).rejects.toMatchObject({ code: 'PLUGIN_ERROR', message: 'age-plugin-dummy: wrong PIN' });
  });

  it('a plugin that dies or hangs is reported and killed', async () => {
    await expect(runIdentityV1('crash', { identities: [], files: [[]] }, recordingUi(), { env })).rejects.toMatchObject({ code: 'DIED', message: 'age-plugin-crash unexpectedly died: boom: no card' });
    const t = Date.now();
    await expect(runIdentityV1('mute', { identities: [], files: [[]] }, recordingUi(), { env, timeoutMs: 300 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - t).toBeLessThan(5000);
    await expect(runIdentityV1('absent', { identities: [], files: [[]] }, recordingUi(), { env })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('typage encrypts and decrypts through plugins via the adapters', async () => {
    const prev = process.env.PATH;
    process.env.PATH = env.PATH;
    try {
      const e = new Encrypter();
      e.addRecipient(pluginRecipient(RECIPIENT));
      const ct = await e.encrypt('through a plugin');
      const d = new Decrypter();
      d.addIdentity(pluginIdentity(IDENTITY, recordingUi()));
      expect(await d.decrypt(ct, 'text')).toBe('through a plugin');

      // age-plugin-yubikey's recipient-v1 (no card needed) through the same adapter: the stanza
      // opens with the published vector's private key.
      const vectorRecipient = 'age1yubikey1qw6csek4quyanvfq0kk8xst83vp9d4dlrrn99nm4wc4l2c8zle9q2rsxz5p';
      const d2key = hex.decode('31e08ce7c3394eaf680b1698eb6c6e2eaf1bfe438d12fa5b6a6b18577a83dedf');
      const fileKey = new Uint8Array(16).fill(9);
      const [st] = await pluginRecipient(vectorRecipient).wrapFileKey(fileKey);
      const parsed = parsePivP256({ type: st!.args[0]!, args: st!.args.slice(1), body: st!.body })!;
      const opened = await unwrapPivP256(parsed, p256.getPublicKey(d2key, true), async (peer) => p256.getSharedSecret(d2key, peer, true).subarray(1));
      expect(hex.encode(opened)).toBe(hex.encode(fileKey));
    } finally {
      process.env.PATH = prev;
    }
  });
});

const age = findTool('age');
const python = findTool('python3');

describe('the real age CLI drives a plugin built on the framework', () => {
  itWith([age, python])('encrypts, and decrypts with a request-secret answered on a pty', async () => {
    const plain = join(dir, 'p.txt');
    writeFileSync(plain, 'via age 1.1.1\n');
    const enc = await run('age', ['-r', RECIPIENT, '-o', join(dir, 'p.age'), plain], { env });
    expect(enc.code, enc.stderr).toBe(0);
    const idFile = join(dir, 'id.txt');
    writeFileSync(idFile, IDENTITY_PIN + '\n');
    const r = await run('python3', [`${ROOT}scripts/pty-run.py`, '--expect', 'Dummy PIN', '--send', '@env', '--', 'age', '-d', '-i', idFile, join(dir, 'p.age')], { env: { ...env, PTY_SEND_1: '4321' }, noTty: true });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('age: dummy plugin: hello from dummy plugin');
    expect(r.stdout).toContain('via age 1.1.1');
    expect(r.stdout).not.toContain('4321');
    const noTty = await run('age', ['-d', '-i', idFile, join(dir, 'p.age')], { env, noTty: true });
    expect(noTty.code).not.toBe(0);
    expect(noTty.stderr).toContain('a PIN is required');
  });
});

describe('the terminal UI of the client side', () => {
  itWith([age, python])('asks for a plugin secret on the terminal without echo, as a JavaScript program using typage', async () => {
    const plain = join(dir, 'q.txt');
    writeFileSync(plain, 'typed on a terminal\n');
    await run('age', ['-r', RECIPIENT, '-o', join(dir, 'q.age'), plain], { env });
    const script = `exec node ${join(dir, 'decrypt-with-plugin.mjs')} ${IDENTITY_PIN} < ${join(dir, 'q.age')}`;
    const r = await run('python3', [`${ROOT}scripts/pty-run.py`, '--expect', 'age-plugin-dummy: Dummy PIN: ', '--send', '@env', '--', 'sh', '-c', script], { env: { ...env, PTY_SEND_1: '4321' }, noTty: true });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('age-plugin-dummy: hello from dummy plugin');
    expect(r.stdout).toContain('typed on a terminal');
    expect(r.stdout).not.toContain('4321');
    // Without a terminal the question fails cleanly and the plugin reports it.
    const noTty = await run(process.execPath, [join(dir, 'decrypt-with-plugin.mjs'), IDENTITY_PIN], { input: readFileSync(join(dir, 'q.age')), env, noTty: true });
    expect(noTty.code).not.toBe(0);
    expect(noTty.stderr).toContain('a PIN is required');
  });
});
