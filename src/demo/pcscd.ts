/**
 * The pcscd a demo step plugs its virtual token into: the machine's own (running or
 * socket-activated, with vsmartcard-vpcd's reader on port 35963), or one the demo starts (root
 * only) with a reader named like the token's real one.
 */
import { existsSync } from 'node:fs';
import { openPcsc } from '../transport/pcsc.ts';
import { pcscdRunning, startRig, type Rig } from '../rig/pcscd.ts';
import { DemoStepError } from './exec.ts';
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

/**
 * Plugs the virtual PC/SC token `plug` starts on a vpcd port into the demo's pcscd (see
 * `demoPcscd`), lets pcscd see it, runs `use`, and then pulls the token and stops the pcscd the
 * demo started.
 */
export async function withVirtualCard<C extends { stop(): Promise<void> }>(
  report: DemoReport,
  token: { label: string; reader?: { name: string; port: number } },
  plug: (port: number) => Promise<C>,
  use: (card: C) => Promise<void>,
): Promise<void> {
  const { port, rig } = await demoPcscd(report, token.label, token.reader);
  let card: C | null = null;
  try {
    card = await plug(port);
    await tokenSeen(rig);
    await use(card);
  } finally {
    await card?.stop().catch(() => undefined);
    await rig?.stop();
  }
}
