/**
 * The pcscd test rig: runs pcscd in the foreground with the vpcd driver (two virtual reader slots
 * named like a YubiKey's, so ykman and yubico-piv-tool accept them), with the TCP_NODELAY preload
 * when it is built, waits until pcscd is serving, and stops it cleanly. It never touches a pcscd
 * someone else started.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const READER_NAME = 'Yubico YubiKey OTP+FIDO+CCID';
export const DEFAULT_PORT = 0x8c7b;
const VPCD_LIB = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';

export class RigError extends Error {
  readonly code: 'PCSCD_MISSING' | 'VPCD_MISSING' | 'PCSCD_RUNNING' | 'START_FAILED' | 'NOT_ROOT';
  constructor(code: RigError['code'], message: string) {
    super(message);
    this.name = 'RigError';
    this.code = code;
  }
}

export interface RigOptions {
  /** First vpcd port (the second slot uses port + 1). Default 35963. */
  port?: number;
  readerName?: string;
  /** pcscd debug + APDU logging to `log`. */
  debug?: boolean;
  log?: (line: string) => void;
  /** Use the TCP_NODELAY preload when it is built (default true). */
  nodelay?: boolean;
}

export interface Rig {
  /** vpcd ports of the two reader slots. */
  ports: [number, number];
  readerNames: [string, string];
  /** Whether the TCP_NODELAY preload is active (else each APDU costs ~40 ms). */
  nodelay: boolean;
  /**
   * Resolves once pcscd itself reports a card in reader slot `slot` (`present`) or none
   * (`absent`), asked through PC/SC like any client; rejects after `timeoutMs` (default 30 s).
   */
  waitForCard(slot: 0 | 1, want?: CardWanted, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export type CardWanted = 'present' | 'absent';

/** Generous bounds: a loaded CI machine may take seconds where an idle one takes milliseconds. */
const START_TIMEOUT_MS = 30_000;
const CARD_TIMEOUT_MS = 30_000;

/**
 * The PC/SC query, run in a short-lived child process: it watches pcscd through the pcsclite
 * addon (event-driven: pcsclite reports every reader and every state change as it happens) and
 * exits 0 as soon as the condition holds. A child, because closing pcsclite contexts inside a
 * long-lived process can deadlock in the addon; a child just exits, and one that does not answer
 * in time is killed.
 */
const WATCH_SOURCE = `
const [lib, spec] = [process.argv[1], JSON.parse(process.argv[2])];
const pcsc = require(lib)();
const states = new Map();
pcsc.on('error', () => {});
pcsc.on('reader', (r) => {
  r.on('error', () => {});
  r.on('end', () => states.delete(r.name));
  r.on('status', (s) => { states.set(r.name, { state: s.state, r }); check(); });
});
function check() {
  if (spec.kind === 'readers') { if (spec.names.every((n) => states.has(n))) process.exit(0); return; }
  const s = states.get(spec.reader);
  if (!s) return;
  const present = (s.state & s.r.SCARD_STATE_PRESENT) !== 0 && (s.state & s.r.SCARD_STATE_MUTE) === 0;
  if (spec.want === 'present' ? present : (s.state & s.r.SCARD_STATE_EMPTY) !== 0) process.exit(0);
}
`;

type WatchSpec = { kind: 'readers'; names: readonly string[] } | { kind: 'card'; reader: string; want: CardWanted };

function watchPcsc(spec: WatchSpec, what: string, timeoutMs: number): Promise<void> {
  const lib = createRequire(import.meta.url).resolve('pcsclite');
  return new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', WATCH_SOURCE, lib, JSON.stringify(spec)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new RigError('START_FAILED', `cannot ask pcscd for ${what}: ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else if (signal === 'SIGKILL') reject(new RigError('START_FAILED', `pcscd did not report ${what} within ${timeoutMs / 1000} s`));
      else reject(new RigError('START_FAILED', `asking pcscd for ${what} failed (exit ${code}): ${stderr.trim().split('\n').pop() ?? ''}`));
    });
  });
}

/** Resolves once pcscd lists every reader in `names` (each with its first status). */
export function waitForReaders(names: readonly string[], timeoutMs = START_TIMEOUT_MS): Promise<void> {
  return watchPcsc({ kind: 'readers', names }, `the readers ${names.join(', ')}`, timeoutMs);
}

/** Resolves once pcscd reports a usable card in `reader` (`present`) or an empty reader (`absent`). */
export function waitForCard(reader: string, want: CardWanted = 'present', timeoutMs = CARD_TIMEOUT_MS): Promise<void> {
  return watchPcsc({ kind: 'card', reader, want }, `a card ${want === 'present' ? 'in' : 'removed from'} ${reader}`, timeoutMs);
}

function findPcscd(): string | null {
  for (const p of ['/usr/sbin/pcscd', '/sbin/pcscd', '/usr/local/sbin/pcscd']) if (existsSync(p)) return p;
  return null;
}

export function nodelayLibrary(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const rel of ['../../native/libnodelay.so', '../native/libnodelay.so']) {
    const p = join(here, rel);
    if (existsSync(p)) return p;
  }
  return null;
}

export function pcscdRunning(): boolean {
  try {
    execFileSync('pgrep', ['-x', 'pcscd'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why the rig cannot start here, or null when it can. */
export function rigUnavailableReason(): string | null {
  if (!findPcscd()) return 'pcscd is not installed (apt-get install pcscd)';
  if (!existsSync(VPCD_LIB)) return 'the vpcd driver is not installed (apt-get install vsmartcard-vpcd)';
  if (process.getuid && process.getuid() !== 0) return 'pcscd needs root to create /run/pcscd';
  return null;
}

export async function startRig(opts: RigOptions = {}): Promise<Rig> {
  const pcscd = findPcscd();
  if (!pcscd) throw new RigError('PCSCD_MISSING', 'pcscd is not installed (apt-get install pcscd)');
  if (!existsSync(VPCD_LIB)) throw new RigError('VPCD_MISSING', 'the vpcd driver is not installed (apt-get install vsmartcard-vpcd)');
  if (process.getuid && process.getuid() !== 0) throw new RigError('NOT_ROOT', 'pcscd needs root to create /run/pcscd; run the rig as root');
  if (pcscdRunning()) {
    throw new RigError('PCSCD_RUNNING', 'a pcscd is already running on this machine; the rig will not take it over (stop it with `systemctl stop pcscd.socket pcscd` or kill it first)');
  }
  const port = opts.port ?? DEFAULT_PORT;
  const name = opts.readerName ?? READER_NAME;
  const dir = mkdtempSync(join(tmpdir(), 'keybridge-rig-'));
  const hexPort = '0x' + port.toString(16).toUpperCase();
  writeFileSync(join(dir, 'vpcd'), `FRIENDLYNAME "${name}"\nDEVICENAME   /dev/null:${hexPort}\nLIBPATH      ${VPCD_LIB}\nCHANNELID    ${hexPort}\n`);
  const preload = opts.nodelay === false ? null : nodelayLibrary();
  const args = ['-f', '-c', dir];
  if (opts.debug) args.push('-d', '-a');
  const child: ChildProcess = spawn(pcscd, args, {
    env: { ...process.env, ...(preload ? { LD_PRELOAD: preload } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = (d: Buffer) => {
    for (const l of d.toString().split('\n')) if (l.trim()) opts.log?.(l);
  };
  child.stdout?.on('data', lines);
  child.stderr?.on('data', lines);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));

  const readerNames: [string, string] = [`${name} 00 00`, `${name} 00 01`];
  const fail = (why: string) => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    return new RigError('START_FAILED', `pcscd did not start${exited ? ' (it exited; run with debug for its log)' : ` ${why}`}`);
  };
  // The socket appears when pcscd listens (checked on each 20 ms tick, bounded generously);
  // then PC/SC itself must list both reader slots, which is when vpcd listens on its ports.
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!existsSync(PCSCD_SOCKET)) {
    if (exited || Date.now() > deadline) throw fail(`within ${START_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
  try {
    await waitForReaders(readerNames, Math.max(1000, deadline - Date.now()));
  } catch (e) {
    throw fail(`(${(e as Error).message})`);
  }

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    ports: [port, port + 1],
    readerNames,
    nodelay: preload !== null,
    waitForCard: (slot, want = 'present', timeoutMs = CARD_TIMEOUT_MS) => waitForCard(readerNames[slot], want, timeoutMs),
    stop,
  };
}
