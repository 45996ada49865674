/**
 * The pcscd test rig: runs pcscd in the foreground with the vpcd driver — one vpcd reader (two
 * slots) per virtual token, named like the real device's so its usual clients accept it (by
 * default a YubiKey's) — with the TCP_NODELAY preload when it is built, waits until pcscd is
 * serving, and stops it cleanly. It never touches a pcscd someone else started.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  stop(): Promise<void>;
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

  const deadline = Date.now() + 5000;
  while (!existsSync(PCSCD_SOCKET)) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new RigError('START_FAILED', `pcscd did not start${exited ? ' (it exited; run with debug for its log)' : ' within 5 s'}`);
    }
    await new Promise((r) => setTimeout(r, 20));
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
  return { ports: list[0]!.ports, readerNames: list[0]!.slots, readers: list, nodelay: preload !== null, stop };
}
