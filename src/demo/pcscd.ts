/**
 * The pcscd a demo step plugs its virtual token into: the machine's own (running or
 * socket-activated, with vsmartcard-vpcd's reader on port 35963), or one the demo starts (root
 * only) with a reader named like the token's real one. And `age -d` on a terminal the demo types
 * the PIN into.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openPcsc } from '../transport/pcsc.ts';
import { pcscdRunning, startRig, type Rig } from '../rig/pcscd.ts';
import { DemoStepError, exec } from './exec.ts';
import { distDir } from './paths.ts';
import type { DemoReport } from './report.ts';

export async function demoPcscd(report: DemoReport, token: string, reader?: { name: string; port: number }): Promise<{ port: number; rig: Rig | null }> {
  if (pcscdRunning() || existsSync('/run/pcscd/pcscd.comm')) {
    // A PC/SC call starts a socket-activated pcscd.
    const readers = await openPcsc().catch(() => null);
    await readers?.list().catch(() => undefined);
    await readers?.close();
    report.info(`this machine's pcscd is in use: the ${token} plugs into its vpcd reader (port 35963).`);
    return { port: 0x8c7b, rig: null };
  }
  if (process.getuid?.() !== 0) {
    throw new DemoStepError('pcscd is not running and starting one needs root: run the demo as root, or start the system pcscd (sudo systemctl start pcscd.socket) with vsmartcard-vpcd installed');
  }
  const rig = await startRig(reader ? { readers: [reader] } : {});
  report.info(`started pcscd with the vpcd driver (reader "${rig.readerNames[0]}")${rig.nodelay ? '' : ' — without the TCP_NODELAY preload (run make -C native)'}`);
  return { port: rig.ports[0], rig };
}

/**
 * Resolves once pcscd has seen the virtual token just plugged in: the demo's own pcscd is asked
 * (bounded, 30 s); the machine's pcscd gets a pause of a few of its 400 ms polls.
 */
export async function tokenSeen(rig: Rig | null): Promise<void> {
  if (rig) await rig.waitForCard(0, 'present');
  else await new Promise((r) => setTimeout(r, 1200));
}

/** Runs `age -d …` on a pty, typing `pin` at the "Enter PIN" prompt; returns the transcript (PIN masked). */
export async function ageDecryptOnPty(args: string[], pin: string, env: NodeJS.ProcessEnv, expected: string): Promise<string> {
  const out = await exec('python3', [join(distDir(), '..', 'scripts', 'pty-run.py'), '--timeout', '30', '--expect', 'Enter PIN', '--send', '@env', '--', 'age', ...args], {
    env: { ...env, PTY_SEND_1: pin },
    noTty: true,
  });
  const transcript = out.stdout.toString().replace(/\r/g, '').replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
  if (!transcript.includes(expected)) throw new DemoStepError(`decryption through the plugin failed:\n${transcript}`);
  return transcript
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (l.startsWith('Enter PIN') ? `${l.trim()} ******` : l))
    .join('\n');
}
