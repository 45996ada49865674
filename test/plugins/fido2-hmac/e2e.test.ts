/**
 * age-plugin-fido2-hmac end to end: the real `age` CLI (Debian 1.1.1) runs the plugin bundle from
 * PATH; the key is the virtual authenticator over TCP (KEYBRIDGE_FIDO2_TCP, Pico FIDO framing).
 * PINs are typed on a pty.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect } from 'vitest';
import { Encrypter } from 'age-encryption';
import { parseRecipientString } from '../../../src/plugins/fido2-hmac/format.ts';
import { startVirtualFido2, type VirtualFido2 } from '../../../src/sim/fido2/server.ts';
import { CtapHidDevice } from '../../../src/transport/ctaphid.ts';
import { tcpDevice } from '../../../src/transport/hid/tcp.ts';
import { Ctap2Session } from '../../../src/tokens/ctap2/session.ts';
import { ageNoTty, ageOnPty, ageOnPtyActing, pluginPath } from '../../helpers/ageCli.ts';
import { DIST, run } from '../../helpers/run.ts';
import { findTool, itWith } from '../../helpers/tools.ts';

const age = findTool('age');
const python = findTool('python3');
const it = itWith([age, python]);
const PIN = '4711';
const { dir, env: baseEnv } = pluginPath(['fido2-hmac']);
const sims: VirtualFido2[] = [];
afterEach(async () => {
  for (const v of sims.splice(0)) await v.stop();
});
afterAll(() => undefined);

async function key(opts: { pin?: string; name?: string } = {}): Promise<VirtualFido2> {
  const v = await startVirtualFido2({ port: 0, ...(opts.name ? { name: opts.name } : {}) });
  sims.push(v);
  if (opts.pin) {
    const s = await Ctap2Session.open(await CtapHidDevice.open(v.device()));
    await s.setPin(opts.pin);
    await s.close();
  }
  return v;
}

const envFor = (...vs: VirtualFido2[]) => ({ ...baseEnv, KEYBRIDGE_FIDO2_TCP: vs.map((v) => v.endpoint).join(',') });

/** `age-plugin-fido2-hmac -g` without a terminal: answers (PIN, y/n) one per line on stdin. */
async function generate(v: VirtualFido2[] | VirtualFido2, answers: string[], extra: string[] = []) {
  const r = await run(process.execPath, [`${DIST}/age-plugin-fido2-hmac.mjs`, '-g', ...extra], { env: envFor(...[v].flat()), input: answers.map((a) => a + '\n').join(''), noTty: true, timeoutMs: 60_000 });
  expect(r.code, r.stderr).toBe(0);
  for (const a of answers) if (a.length > 2) expect(r.stderr).not.toContain(a);
  return r;
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('age-plugin-fido2-hmac with the real age CLI', () => {
  it('generate without PIN and without identity: age -r encrypts, age -d -j fido2-hmac decrypts with the touch message', async () => {
    const v = await key();
    const g = await generate(v, ['n']);
    expect(g.stderr).toContain('[*] Please insert your token now...');
    expect(g.stderr).toContain('[*] Please touch your token...');
    expect(g.stderr).toContain('[*] Are you fine with having a separate identity (better privacy)? [y/n]');
    expect(g.stderr).not.toContain('require a PIN');
    expect(g.stdout).toMatch(/^# for decryption, use `age -d -j fido2-hmac` without any identity file\.\n# public key: age1fido2-hmac1[a-z0-9]+\n\n$/);
    const recipient = /# public key: (\S+)/.exec(g.stdout)![1]!;
    const plain = file('p1.txt', 'no pin, no identity\n');
    const enc = join(dir, 'p1.age');
    const e = await ageNoTty(['-r', recipient, '-o', enc, plain], envFor(v));
    expect(e.code, e.stderr).toBe(0);
    expect(readFileSync(enc, 'latin1')).toMatch(/^-> fido2-hmac AAI /m);
    const d = await ageNoTty(['-d', '-j', 'fido2-hmac', enc], envFor(v));
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toBe('no pin, no identity\n');
    expect(d.stderr).toContain(`age: fido2-hmac plugin: Please touch your token (FIDO2 key at ${v.endpoint})...`);
  });

  it('generate with PIN, PIN required and a separate identity: native age1 recipient; age -d -i with the PIN on a pty; wrong PIN re-prompts with the tries left', async () => {
    const v = await key({ pin: PIN });
    const g = await generate(v, [PIN, 'y', 'y']);
    expect(g.stderr).toContain('[*] Do you want to require a PIN for decryption? [y/n]');
    expect(g.stdout).toMatch(/^# public key: age1[a-z0-9]{58}\nAGE-PLUGIN-FIDO2-HMAC-1[A-Z0-9]+\n$/);
    const idFile = file('id2.txt', g.stdout);
    const recipient = /# public key: (\S+)/.exec(g.stdout)![1]!;
    const plain = file('p2.txt', 'pin and identity\n');
    const enc = join(dir, 'p2.age');
    // A native recipient: age needs no plugin (nor the key) to encrypt.
    const e = await ageNoTty(['-r', recipient, '-o', enc, plain], { ...process.env, PATH: '/usr/bin:/bin' });
    expect(e.code, e.stderr).toBe(0);
    expect(readFileSync(enc, 'latin1')).toMatch(/^-> X25519 /m);
    const d = await ageOnPty(['-d', '-i', idFile, enc], envFor(v), [
      [/PIN for FIDO2 key at/, '0000'],
      [/Wrong PIN \(7 tries left\)/, PIN],
    ]);
    expect(d.code, d.stdout).toBe(0);
    expect(d.stdout).toContain('pin and identity');
    expect(d.stdout).toContain(`Please touch your token (FIDO2 key at ${v.endpoint})...`);
    expect(d.stdout).not.toContain(PIN);
    expect(v.store.state.pinRetries).toBe(8);
  });

  it('the last PIN try is refused; three wrong PINs block PIN auth until the key is replugged', async () => {
    const v = await key({ pin: PIN });
    const g = await generate(v, [PIN, 'y', 'y']);
    const idFile = file('id3.txt', g.stdout);
    const enc = join(dir, 'p3.age');
    expect((await ageNoTty(['-r', /# public key: (\S+)/.exec(g.stdout)![1]!, '-o', enc, file('p3.txt', 'x\n')], envFor(v))).code).toBe(0);
    const blocked = await ageOnPty(['-d', '-i', idFile, enc], envFor(v), [
      [/PIN for/, '1111'],
      [/Wrong PIN \(7 tries left\)/, '2222'],
      [/Wrong PIN \(6 tries left\)/, '3333'],
    ]);
    expect(blocked.code).not.toBe(0);
    expect(blocked.stdout).toMatch(/three wrong PINs in a row: unplug .* and plug it in again/);
    expect(v.store.state.pinRetries).toBe(5);
    v.store.state.pinRetries = 1;
    v.unplug();
    v.plugIn();
    const last = await ageOnPty(['-d', '-i', idFile, enc], envFor(v), []);
    expect(last.code).not.toBe(0);
    expect(last.stdout).toContain('only one PIN try is left');
    expect(last.stdout).not.toMatch(/PIN for/);
    expect(v.store.state.pinRetries).toBe(1);
  });

  it('touch denied and touch timed out are reported as such', async () => {
    const v = await key();
    const g = await generate(v, ['y']);
    const idFile = file('id4.txt', g.stdout);
    const enc = join(dir, 'p4.age');
    expect((await ageNoTty(['-r', /# public key: (\S+)/.exec(g.stdout)![1]!, '-o', enc, file('p4.txt', 'x\n')], envFor(v))).code).toBe(0);
    v.setTouch('deny');
    const denied = await ageNoTty(['-d', '-i', idFile, enc], envFor(v));
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('the request was denied on the security key');
    v.setTouch({ timeoutMs: 400 });
    const timedOut = await ageNoTty(['-d', '-i', idFile, enc], envFor(v));
    expect(timedOut.code).toBe(1);
    expect(timedOut.stderr).toContain('was not touched in time');
  });

  it('two keys plugged in: only the one holding the credential is touched', async () => {
    const a = await key();
    const b = await key();
    const g = await generate(b, ['n']);
    const recipient = /# public key: (\S+)/.exec(g.stdout)![1]!;
    const enc = join(dir, 'p5.age');
    expect((await ageNoTty(['-r', recipient, '-o', enc, file('p5.txt', 'two keys\n')], envFor(a, b))).code).toBe(0);
    const touchedA: string[] = [];
    const touchedB: string[] = [];
    a.onEvent((e) => e.type === 'touch-requested' && touchedA.push(e.command));
    b.onEvent((e) => e.type === 'touch-requested' && touchedB.push(e.command));
    const d = await ageNoTty(['-d', '-j', 'fido2-hmac', enc], envFor(a, b));
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toBe('two keys\n');
    expect(touchedA).toEqual([]);
    expect(touchedB).toEqual(['getAssertion']);
    expect(d.stderr).toContain(`(FIDO2 key at ${b.endpoint})`);
  });

  it('no key present: fails at once without a terminal, skips with the variable, asks on a terminal', async () => {
    const v = await key();
    const g = await generate(v, ['y']);
    const idFile = file('id6.txt', g.stdout);
    const enc = join(dir, 'p6.age');
    expect((await ageNoTty(['-r', /# public key: (\S+)/.exec(g.stdout)![1]!, '-o', enc, file('p6.txt', 'x\n')], envFor(v))).code).toBe(0);
    const gone = envFor(v);
    await v.stop();
    sims.length = 0;
    const noTty = await ageNoTty(['-d', '-i', idFile, enc], gone);
    expect(noTty.code).toBe(1);
    expect(noTty.stderr).toContain('no plugged-in FIDO2 key holds this identity’s credential; plug it in and try again');
    const skipped = await ageNoTty(['-d', '-i', idFile, enc], { ...gone, AGE_PLUGIN_FIDO2_HMAC_SKIP_NOT_FOUND: '1' });
    expect(skipped.code).toBe(1);
    expect(skipped.stderr).toContain('no identity matched any of the recipients');
    const asked = await ageOnPty(['-d', '-i', idFile, enc], gone, [[/Please insert the FIDO2 key holding/, '2']]);
    expect(asked.code).toBe(1);
    expect(asked.stdout).toContain('Skip this key');
    expect(asked.stdout).toContain('no identity matched any of the recipients');
  });

  it('no key present on a terminal: plugged in after the question and answered "plugged in", it decrypts', async () => {
    const statePath = join(dir, 'plugged.json');
    const first = await startVirtualFido2({ port: 0, statePath });
    const g = await generate(first, ['y']);
    const idFile = file('id-plug.txt', g.stdout);
    const enc = join(dir, 'p-plug.age');
    expect((await ageNoTty(['-r', /# public key: (\S+)/.exec(g.stdout)![1]!, '-o', enc, file('p-plug.txt', 'plugged in late\n')], envFor(first))).code).toBe(0);
    const env = envFor(first);
    const port = first.port!;
    await first.stop();
    let late: VirtualFido2 | undefined;
    const touched: string[] = [];
    const d = await ageOnPtyActing(['-d', '-i', idFile, enc], env, [
      {
        expect: /Please insert the FIDO2 key holding this identity’s credential/,
        send: '1',
        // The same key (its state) comes back on the same endpoint only now that the question is shown.
        before: async () => {
          late = await startVirtualFido2({ port, statePath });
          sims.push(late);
          late.onEvent((e) => e.type === 'touch-requested' && touched.push(e.command));
        },
      },
    ]);
    expect(d.code, d.stdout).toBe(0);
    expect(d.stdout).toContain('The key is plugged in');
    expect(d.stdout).toContain('plugged in late');
    expect(d.stdout).toContain(`Please touch your token (FIDO2 key at 127.0.0.1:${port})...`);
    expect(late).toBeDefined();
    expect(touched).toEqual(['getAssertion']);
  });

  it('symmetric (-s) credentials: age -e -i and age -d -i need the key each time (v1 stanzas)', async () => {
    const v = await key();
    const g = await generate(v, ['y'], ['-s']);
    expect(g.stdout).toMatch(/^# public key: age1fido2-hmac1[a-z0-9]+\nAGE-PLUGIN-FIDO2-HMAC-1[A-Z0-9]+\n$/);
    const idFile = file('id7.txt', g.stdout);
    const enc = join(dir, 'p7.age');
    const e = await ageNoTty(['-e', '-i', idFile, '-o', enc, file('p7.txt', 'symmetric\n')], envFor(v));
    expect(e.code, e.stderr).toBe(0);
    const header = readFileSync(enc, 'latin1');
    expect(header).toMatch(/^-> fido2-hmac [A-Za-z0-9+/]{43} [A-Za-z0-9+/]{16}\n/m);
    const d = await ageNoTty(['-d', '-i', idFile, enc], envFor(v));
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toBe('symmetric\n');
    // A v1 recipient (age -r) writes the 4-argument v1 stanza; the magic identity decrypts it.
    const rec = /# public key: (\S+)/.exec(g.stdout)![1]!;
    const enc2 = join(dir, 'p7b.age');
    expect((await ageNoTty(['-r', rec, '-o', enc2, file('p7b.txt', 'v1 recipient\n')], envFor(v))).code).toBe(0);
    expect(readFileSync(enc2, 'latin1')).toMatch(/^-> fido2-hmac \S{43} \S{16} AA \S+\n/m);
    const magic = file('magic.txt', (await run(process.execPath, [`${DIST}/age-plugin-fido2-hmac.mjs`, '-m'], { env: baseEnv })).stdout + '\n');
    const d2 = await ageNoTty(['-d', '-i', magic, enc2], envFor(v));
    expect(d2.stdout).toBe('v1 recipient\n');
    // …but not the file encrypted to the identity (its stanza holds no credential).
    expect((await ageNoTty(['-d', '-i', magic, enc], envFor(v))).code).toBe(1);
  });

  it('-a eddsa and -a rs256 make credentials of that algorithm; age encrypts and decrypts with them; a key without the algorithm is refused', async () => {
    const v = await key();
    const seen: number[] = [];
    for (const [flag, cose] of [['eddsa', -8], ['RS256', -257]] as const) {
      const g = await generate(v, ['n'], ['-a', flag]);
      const recipient = /# public key: (\S+)/.exec(g.stdout)![1]!;
      const enc = join(dir, `alg-${cose}.age`);
      expect((await ageNoTty(['-r', recipient, '-o', enc, file(`alg-${cose}.txt`, `${flag}\n`)], envFor(v))).code).toBe(0);
      const d = await ageNoTty(['-d', '-j', 'fido2-hmac', enc], envFor(v));
      expect(d.code, d.stderr).toBe(0);
      expect(d.stdout).toBe(`${flag}\n`);
      // The credential id opens on the key as a credential of that algorithm: its assertion is signed with it.
      const credId = Buffer.from(readFileSync(enc, 'latin1').match(/^-> fido2-hmac AAI \S+ \S+ \S+ (\S+)$/m)![1]!, 'base64');
      const s = await Ctap2Session.open(await CtapHidDevice.open(v.device()));
      const a = await s.getAssertion({ rpId: 'age-encryption.org', allowList: [credId], userPresence: false });
      await s.close();
      expect(a.signature.length).toBe(cose === -8 ? 64 : 256);
      seen.push(cose);
    }
    expect(seen).toEqual([-8, -257]);
    const es256Only = await startVirtualFido2({ port: 0, algorithms: [-7] });
    sims.push(es256Only);
    const r = await run(process.execPath, [`${DIST}/age-plugin-fido2-hmac.mjs`, '-g', '-a', 'eddsa'], { env: envFor(es256Only), input: 'n\n', noTty: true, timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Failed: creating the credential: the security key does not support this algorithm');
  });

  it('-p (post-quantum, upstream main): a v3 recipient for age -r / -j; a separate identity publishes age1pq1… (typage encrypts to it); FIDO2_HMAC_PQ=1 age -e -i writes mlkem768x25519', async () => {
    const v = await key();
    const linked = await generate(v, ['n'], ['-p']);
    const r3 = /# public key: (age1fido2-hmac1\S+)/.exec(linked.stdout)![1]!;
    expect(parseRecipientString(r3).version).toBe(3);
    const enc = join(dir, 'pq-linked.age');
    expect((await ageNoTty(['-r', r3, '-o', enc, file('pq1.txt', 'pq linked\n')], envFor(v))).code).toBe(0);
    const share = /^-> fido2-hmac AAI (\S+) /m.exec(readFileSync(enc, 'latin1'))![1]!;
    expect(share.length).toBeGreaterThan(43); // the mlkem768x25519 encapsulation, not an X25519 share
    const d = await ageNoTty(['-d', '-j', 'fido2-hmac', enc], envFor(v));
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toBe('pq linked\n');

    const separate = await generate(v, ['y'], ['--post-quantum']);
    expect(separate.stdout).toMatch(/^# public key: age1pq1[a-z0-9]+\nAGE-PLUGIN-FIDO2-HMAC-1[A-Z0-9]+\n$/);
    const idFile = file('id-pq.txt', separate.stdout);
    const e = new Encrypter();
    e.addRecipient(/# public key: (\S+)/.exec(separate.stdout)![1]!);
    const enc2 = join(dir, 'pq-sep.age');
    writeFileSync(enc2, await e.encrypt('typage to age1pq\n'));
    expect(readFileSync(enc2, 'latin1')).toMatch(/^-> mlkem768x25519 /m);
    const d2 = await ageNoTty(['-d', '-i', idFile, enc2], envFor(v));
    expect(d2.code, d2.stderr).toBe(0);
    expect(d2.stdout).toBe('typage to age1pq\n');

    const enc3 = join(dir, 'pq-id.age');
    expect((await ageNoTty(['-e', '-i', idFile, '-o', enc3, file('pq3.txt', 'to the identity\n')], { ...envFor(v), FIDO2_HMAC_PQ: '1' })).code).toBe(0);
    expect(readFileSync(enc3, 'latin1')).toMatch(/^-> mlkem768x25519 /m);
    const enc4 = join(dir, 'pq-id-classic.age');
    expect((await ageNoTty(['-e', '-i', idFile, '-o', enc4, file('pq4.txt', 'classic\n')], envFor(v))).code).toBe(0);
    expect(readFileSync(enc4, 'latin1')).toMatch(/^-> X25519 /m);
    for (const [f, text] of [[enc3, 'to the identity\n'], [enc4, 'classic\n']] as const) {
      const r = await ageNoTty(['-d', '-i', idFile, f], envFor(v));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(text);
    }
  });

  it('age killed during a touch: the plugin cancels the pending request on the key (CTAPHID_CANCEL)', async () => {
    const v = await key();
    const g = await generate(v, ['n']);
    const enc = join(dir, 'p8.age');
    expect((await ageNoTty(['-r', /# public key: (\S+)/.exec(g.stdout)![1]!, '-o', enc, file('p8.txt', 'x\n')], envFor(v))).code).toBe(0);
    v.setTouch({ timeoutMs: 25_000 });
    const waiting = v.waitFor((e) => e.type === 'touch-requested', 20_000);
    const cancelled = v.waitFor((e) => e.type === 'touch' && e.result === 'cancelled', 20_000);
    const child = spawn('age', ['-d', '-j', 'fido2-hmac', enc], { env: envFor(v), stdio: ['ignore', 'ignore', 'ignore'], detached: true });
    await waiting;
    child.kill('SIGKILL');
    const t0 = Date.now();
    await cancelled;
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('Ctrl-C during a touch (SIGINT to age and the plugin, as a terminal sends it) cancels it on the key', async () => {
    const v = await key();
    const g = await generate(v, ['n']);
    const enc = join(dir, 'p9.age');
    expect((await ageNoTty(['-r', /# public key: (\S+)/.exec(g.stdout)![1]!, '-o', enc, file('p9.txt', 'x\n')], envFor(v))).code).toBe(0);
    v.setTouch({ timeoutMs: 25_000 });
    const waiting = v.waitFor((e) => e.type === 'touch-requested', 20_000);
    const cancelled = v.waitFor((e) => e.type === 'touch' && e.result === 'cancelled', 20_000);
    const child = spawn('age', ['-d', '-j', 'fido2-hmac', enc], { env: envFor(v), stdio: ['ignore', 'ignore', 'ignore'], detached: true });
    const exited = new Promise((r) => child.on('exit', r));
    await waiting;
    process.kill(-child.pid!, 'SIGINT');
    await cancelled;
    await exited;
  });
});
