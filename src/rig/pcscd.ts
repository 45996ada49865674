/**
 * The pcscd test rig: runs pcscd in the foreground with the vpcd driver — one vpcd reader (two
 * slots) per virtual token, named like the real device's so its usual clients accept it (by
 * default a YubiKey's) — with the TCP_NODELAY preload when it is built, waits until pcscd is
 * serving, and stops it cleanly. It never touches a pcscd someone else started.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostIsNixOS } from '../term/host.ts';

export const READER_NAME = 'Yubico YubiKey OTP+FIDO+CCID';
export const DEFAULT_PORT = 0x8c7b;
const DEFAULT_VPCD_LIB = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';

export class RigError extends Error {
  readonly code: 'PCSCD_MISSING' | 'VPCD_MISSING' | 'PCSCD_RUNNING' | 'START_FAILED' | 'NOT_ROOT';
  constructor(code: RigError['code'], message: string) {
    super(message);
    this.name = 'RigError';
    this.code = code;
  }
}

export interface RigReader {
  /** Friendly name; pcscd appends " 00 00" / " 00 01" for the two slots. */
  name: string;
  /** vpcd port of the first slot (the second uses port + 1). */
  port: number;
}

export interface RigOptions {
  /** The vpcd readers (default: one named `readerName` on `port`). */
  readers?: RigReader[];
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
  /** vpcd ports of the first reader's two slots. */
  ports: [number, number];
  readerNames: [string, string];
  /** Every reader: its slots' names and ports. */
  readers: { name: string; ports: [number, number]; slots: [string, string] }[];
  /** Whether the TCP_NODELAY preload is active (else each APDU costs ~40 ms). */
  nodelay: boolean;
  /**
   * Resolves once pcscd itself reports a card in reader slot `slot` (`present`) or none
   * (`absent`), asked through PC/SC like any client; rejects after `timeoutMs` (default 30 s).
   */
  waitForCard(slot: 0 | 1, want?: CardWanted, timeoutMs?: number, reader?: number): Promise<void>;
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

/**
 * pcscd and the vpcd driver: Debian's paths, or the ones a package names in the environment
 * (the Nix package sets KEYBRIDGE_PCSCD and KEYBRIDGE_VPCD_DRIVER to store paths).
 */
function findPcscd(): string | null {
  const fromEnv = process.env.KEYBRIDGE_PCSCD;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  for (const p of ['/usr/sbin/pcscd', '/sbin/pcscd', '/usr/local/sbin/pcscd']) if (existsSync(p)) return p;
  return null;
}

function vpcdLibrary(): string {
  return process.env.KEYBRIDGE_VPCD_DRIVER || DEFAULT_VPCD_LIB;
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

/** How to get what the rig misses, on this kind of host. */
export function missingHint(what: 'pcscd' | 'vpcd', nixos = hostIsNixOS()): string {
  if (nixos) {
    return what === 'pcscd'
      ? "pcscd is not found: run keybridge from its Nix package (which sets KEYBRIDGE_PCSCD), or set KEYBRIDGE_PCSCD to pcsclite's bin/pcscd"
      : "the vpcd driver is not found: run keybridge from its Nix package (which sets KEYBRIDGE_VPCD_DRIVER), or set KEYBRIDGE_VPCD_DRIVER to vsmartcard-vpcd's libifdvpcd.so";
  }
  return what === 'pcscd' ? 'pcscd is not installed (apt-get install pcscd)' : 'the vpcd driver is not installed (apt-get install vsmartcard-vpcd)';
}

/** Why the rig cannot start here, or null when it can. */
export function rigUnavailableReason(): string | null {
  if (!findPcscd()) return missingHint('pcscd');
  if (!existsSync(vpcdLibrary())) return missingHint('vpcd');
  if (process.getuid && process.getuid() !== 0) return 'pcscd needs root to create /run/pcscd';
  return null;
}

export async function startRig(opts: RigOptions = {}): Promise<Rig> {
  const pcscd = findPcscd();
  if (!pcscd) throw new RigError('PCSCD_MISSING', missingHint('pcscd'));
  const vpcd = vpcdLibrary();
  if (!existsSync(vpcd)) throw new RigError('VPCD_MISSING', missingHint('vpcd'));
  if (process.getuid && process.getuid() !== 0) throw new RigError('NOT_ROOT', 'pcscd needs root to create /run/pcscd; run the rig as root');
  if (pcscdRunning()) {
    throw new RigError('PCSCD_RUNNING', 'a pcscd is already running on this machine; the rig will not take it over (stop it with `systemctl stop pcscd.socket pcscd` or kill it first)');
  }
  const readers = opts.readers ?? [{ name: opts.readerName ?? READER_NAME, port: opts.port ?? DEFAULT_PORT }];
  if (readers.length === 0) throw new RigError('START_FAILED', 'the rig needs at least one reader');
  const dir = mkdtempSync(join(tmpdir(), 'keybridge-rig-'));
  readers.forEach(({ name, port }, i) => {
    const hexPort = '0x' + port.toString(16).toUpperCase();
    writeFileSync(join(dir, `vpcd-${i}`), `FRIENDLYNAME "${name.replace(/"/g, '')}"\nDEVICENAME   /dev/null:${hexPort}\nLIBPATH      ${vpcd}\nCHANNELID    ${hexPort}\n`);
  });
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

  const readerNames = readers.flatMap(({ name }) => [`${name} 00 00`, `${name} 00 01`]);
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
  const list = readers.map(({ name, port }) => ({ name, ports: [port, port + 1] as [number, number], slots: [`${name} 00 00`, `${name} 00 01`] as [string, string] }));
  return {
    ports: list[0]!.ports,
    readerNames: list[0]!.slots,
    readers: list,
    nodelay: preload !== null,
    waitForCard: (slot, want = 'present', timeoutMs = CARD_TIMEOUT_MS, reader = 0) => waitForCard(list[reader]!.slots[slot], want, timeoutMs),
    stop,
  };
}
