/**
 * The agent's purpose in figures: separate `age -d` processes (the real age CLI on a pty, our
 * plugins, pcscd + vpcd + the virtual YubiKey and the virtual Pico HSM) for a YubiKey PIN-"always"
 * slot back to back, for a PIN-"once" slot with pauses between files, for a Pico HSM key (PIN
 * verified per card session) with pauses, and for a FIDO2 hmac-secret credential that requires the
 * PIN (the virtual authenticator over TCP) back to back, with and without `keybridge agent`: how
 * often the PIN is asked and the time per file.
 *
 *   npx tsx bench/agent.ts [--files 100] [--pause-ms 2000] [--baseline 5]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Encrypter } from 'age-encryption';
import { nativeUnavailableReason } from '../src/agent/native.ts';
import { YubiKeyRecipient } from '../src/plugins/yubikey/typage.ts';
import { PicoHsmRecipient } from '../src/plugins/picohsm/typage.ts';
import { startVirtualPicoHsm } from '../src/sim/picohsm/card.ts';
import { startVirtualFido2 } from '../src/sim/fido2/server.ts';
import { CtapHidDevice } from '../src/transport/ctaphid.ts';
import { Ctap2Session } from '../src/tokens/ctap2/session.ts';
import { rigUnavailableReason, startRig } from '../src/rig/pcscd.ts';
import { startVirtualYubiKey } from '../src/sim/yubikey/card.ts';
import { decryptOnPty } from '../test/helpers/ageBatch.ts';
import { acquireLock, releaseLock } from '../test/helpers/rigLock.ts';

const { values } = parseArgs({ options: { files: { type: 'string', default: '100' }, 'pause-ms': { type: 'string', default: '2000' }, baseline: { type: 'string', default: '5' } } });
const N = Math.max(1, Math.min(1000, Number(values.files)));
const PAUSE = Math.max(0, Math.min(60_000, Number(values['pause-ms'])));
const BASE = Math.max(1, Math.min(N, Number(values.baseline)));
const PIN = '471129';

const root = fileURLToPath(new URL('..', import.meta.url));
spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
const skip = rigUnavailableReason() ?? nativeUnavailableReason();
if (skip) {
  console.log(`SKIP agent batch: ${skip}`);
  process.exit(0);
}

function runNode(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, args, { env, detached: true });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
    c.stdin.end(input);
  });
}

const dir = mkdtempSync(join(tmpdir(), 'keybridge-bench-agent-'));
const bin = join(dir, 'bin');
mkdirSync(bin);
for (const p of ['yubikey', 'picohsm', 'fido2-hmac']) symlinkSync(join(root, 'dist', `age-plugin-${p}.mjs`), join(bin, `age-plugin-${p}`));
const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH}`, KEYBRIDGE_AGENT_SOCK: join(dir, 'agent', 'agent.sock') };
const kb = (args: string[]) => runNode([join(root, 'dist', 'keybridge.mjs'), ...args], env);
const plugin = join(root, 'dist', 'age-plugin-yubikey.mjs');
await acquireLock(); // one pcscd per machine
const rig = await startRig();
const yk = await startVirtualYubiKey({ port: rig.ports[0], serial: 24681357 });
const hsm = await startVirtualPicoHsm({ port: rig.ports[1], serial: 'ESPH3000001', initialise: { pin: PIN, soPin: '3537363231383830' } });
const fido2 = await startVirtualFido2({ port: 0 });
env.KEYBRIDGE_FIDO2_TCP = fido2.endpoint!; // for the plugin and the agent alike
await rig.waitForCard(0, 'present');
await rig.waitForCard(1, 'present');
try {
  type Kind = 'once' | 'always' | 'picohsm' | 'fido2';
  const identities: Record<Kind, { file: string; files: string[] }> = { once: { file: '', files: [] }, always: { file: '', files: [] }, picohsm: { file: '', files: [] }, fido2: { file: '', files: [] } };
  for (const [slot, policy, pins] of [
    ['1', 'once', `123456\n12345678\n${PIN}\n${PIN}\n`],
    ['2', 'always', `${PIN}\n${PIN}\n`],
  ] as const) {
    // pcscd notices a new card within a poll or two (longer on a loaded machine): retry until it has.
    let g = await runNode([plugin, '--generate', '--slot', slot, '--pin-policy', policy, '--touch-policy', 'never'], env, pins);
    for (let i = 0; i < 20 && g.code !== 0 && g.stderr.includes('Please insert'); i++) {
      await new Promise((r) => setTimeout(r, 500));
      g = await runNode([plugin, '--generate', '--slot', slot, '--pin-policy', policy, '--touch-policy', 'never'], env, pins);
    }
    if (g.code !== 0) throw new Error(g.stderr);
    const recipient = /age1yubikey1\w+/.exec(g.stdout)![0];
    const idFile = join(dir, `${policy}.txt`);
    writeFileSync(idFile, g.stdout);
    identities[policy].file = idFile;
    for (let i = 0; i < N; i++) {
      const e = new Encrypter();
      e.addRecipient(new YubiKeyRecipient(recipient));
      const f = join(dir, `${policy}-${i}.age`);
      writeFileSync(f, await e.encrypt(`secret ${i}\n`));
      identities[policy].files.push(f);
    }
  }

  {
    const g = await runNode([join(root, 'dist', 'age-plugin-picohsm.mjs'), '--generate', '--label', 'bench', '--key-type', 'p256'], env, `${PIN}\n`);
    if (g.code !== 0) throw new Error(g.stderr);
    const recipient = /age1picohsm1\w+/.exec(g.stdout)![0];
    identities.picohsm.file = join(dir, 'picohsm.txt');
    writeFileSync(identities.picohsm.file, g.stdout);
    for (let i = 0; i < N; i++) {
      const e = new Encrypter();
      e.addRecipient(new PicoHsmRecipient(recipient));
      const f = join(dir, `picohsm-${i}.age`);
      writeFileSync(f, await e.encrypt(`secret ${i}\n`));
      identities.picohsm.files.push(f);
    }
  }

  {
    const s = await Ctap2Session.open(await CtapHidDevice.open(fido2.device()));
    await s.setPin(PIN);
    await s.close();
    // PIN, "require a PIN for decryption?" yes, "separate identity?" yes: a native age1 recipient.
    const g = await runNode([join(root, 'dist', 'age-plugin-fido2-hmac.mjs'), '-g'], env, `${PIN}\ny\ny\n`);
    if (g.code !== 0) throw new Error(g.stderr);
    const recipient = /# public key: (age1\w+)/.exec(g.stdout)![1]!;
    identities.fido2.file = join(dir, 'fido2.txt');
    writeFileSync(identities.fido2.file, g.stdout);
    for (let i = 0; i < N; i++) {
      const e = new Encrypter();
      e.addRecipient(recipient);
      const f = join(dir, `fido2-${i}.age`);
      writeFileSync(f, await e.encrypt(`secret ${i}\n`));
      identities.fido2.files.push(f);
    }
  }

  async function batch(policy: Kind, n: number, pause: number): Promise<{ prompts: number; msPerFile: number }> {
    let prompts = 0;
    let ms = 0;
    for (let i = 0; i < n; i++) {
      if (i > 0 && pause) await new Promise((r) => setTimeout(r, pause));
      const r = await decryptOnPty(env, identities[policy].file, identities[policy].files[i]!, PIN);
      if (r.code !== 0 || !r.out.includes(`secret ${i}`)) throw new Error(`decryption ${i} failed:\n${r.out}`);
      prompts += r.prompts;
      ms += r.ms;
    }
    return { prompts, msPerFile: ms / n };
  }

  const line = (what: string, n: number, r: { prompts: number; msPerFile: number }) =>
    console.log(`${what.padEnd(46)} ${String(n).padStart(4)} files: PIN asked ${String(r.prompts).padStart(3)}×, ${r.msPerFile.toFixed(0).padStart(4)} ms per file`);

  const noAgentAlways = await batch('always', BASE, 0);
  line('PIN "always", no agent', BASE, noAgentAlways);
  const noAgentOnce = await batch('once', BASE, PAUSE);
  line(`PIN "once", ${PAUSE} ms pauses, no agent`, BASE, noAgentOnce);
  await new Promise((r) => setTimeout(r, PAUSE));
  const noAgentPico = await batch('picohsm', BASE, PAUSE);
  line(`Pico HSM, ${PAUSE} ms pauses, no agent`, BASE, noAgentPico);
  const noAgentFido2 = await batch('fido2', BASE, 0);
  line('FIDO2 hmac-secret with PIN, no agent', BASE, noAgentFido2);

  const d = await kb(['agent', '--daemon']);
  if (d.code !== 0) throw new Error(d.stderr);
  try {
    const always = await batch('always', N, 0);
    line('PIN "always", agent', N, always);
    await kb(['agent', 'lock']);
    const once = await batch('once', N, PAUSE);
    line(`PIN "once", ${PAUSE} ms pauses, agent`, N, once);
    await kb(['agent', 'lock']);
    const pico = await batch('picohsm', N, PAUSE);
    line(`Pico HSM, ${PAUSE} ms pauses, agent`, N, pico);
    await kb(['agent', 'lock']);
    const fido = await batch('fido2', N, 0);
    line('FIDO2 hmac-secret with PIN, agent', N, fido);
    const ratio = (a: { msPerFile: number }, b: { msPerFile: number }) => (a.msPerFile / b.msPerFile).toFixed(2);
    console.log(
      `with the agent: ${always.prompts + once.prompts + pico.prompts + fido.prompts} PIN prompts for ${4 * N} decryptions (without: one per file); time per file ${ratio(always, noAgentAlways)}× ("always"), ${ratio(once, noAgentOnce)}× ("once"), ${ratio(pico, noAgentPico)}× (Pico HSM) and ${ratio(fido, noAgentFido2)}× (FIDO2) of the agent-less figure, prompts excluded from neither`,
    );
  } finally {
    await kb(['agent', 'stop']);
  }
  const log = readFileSync(join(dir, 'agent', 'agent.log'), 'utf8');
  if (log.includes(PIN)) throw new Error('the PIN appeared in the agent log');
  // Why the agent forgot what it held (beyond the lock between the two batches), e.g. a card
  // reset by another program on this machine.
  const forgot = log.split('\n').filter((l) => /forgot |card removed|reset or replugged/.test(l) && !/\(lock\)|\(stop\)/.test(l));
  console.log(`agent forgot the card ${forgot.length} time(s) during the batches${forgot.length ? ':\n  ' + forgot.map((l) => l.replace(/^\S+ /, '')).join('\n  ') : ''}`);
} finally {
  await yk.stop();
  await hsm.stop();
  await fido2.stop();
  await rig.stop();
  releaseLock();
  rmSync(dir, { recursive: true, force: true });
}
