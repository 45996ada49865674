/**
 * Replaces a file atomically: write a temporary file beside it, fsync, rename over the target,
 * fsync the directory. A failure at any point, and SIGINT/SIGTERM/SIGHUP while it runs, leave
 * the target as it was and no temporary file behind.
 *
 * Hostile filesystems: the temporary file is created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW) with
 * mode 0600 in the target's directory, so a planted file or symlink under its name is never
 * followed; the final mode is set on it before the rename. A target that is a symlink is followed
 * to the regular file it names (a keys.txt linked from a dotfiles repo is replaced there, the link
 * stays); any other kind of target (FIFO, device, directory, socket) is refused with a
 * `NotRegularFileError`, and nothing is opened that could block. A secret file's previous version
 * is kept as `<path>.bak` (unless unchanged); a `.bak` that exists and is not a regular file
 * (a symlink above all) is refused, never followed or replaced.
 */
import { nodeCrypto } from '../nodeCrypto.ts';
import { closeSync, constants, fstatSync, openSync, promises as fs, readFileSync, unlinkSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** The file holds a secret: mode 0600 and a `.bak` of any different previous content. */
  readonly secret?: boolean;
  /** Keep a changed previous version as `<path>.bak` (default: when `secret`). */
  readonly backup?: boolean;
  /**
   * A FIFO or character device as the target (`-o /dev/stdout`, `>(…)`, /dev/null) is written
   * straight to instead of refused; a FIFO nobody reads is an error at once, never a hang.
   */
  readonly allowStream?: boolean;
}

/** A path that must be a regular file is something else; `code` is `ENOTREG` (or `EISDIR`). */
export class NotRegularFileError extends Error {
  readonly code: 'ENOTREG' | 'EISDIR';
  constructor(
    readonly path: string,
    readonly kind: string,
    what = 'file',
  ) {
    super(`${path} is ${kind}, not a regular file; refusing to ${what === 'backup' ? 'write the backup there' : 'use it'} (move it away first)`);
    this.name = 'NotRegularFileError';
    this.code = kind === 'a directory' ? 'EISDIR' : 'ENOTREG';
  }
}

export function kindOf(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

// Temporary files alive in this process, removed on the signals that would otherwise leave them.
const liveTemps = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function onSignal(signal: NodeJS.Signals): void {
  removeLiveTemps();
  // If nobody else handles the signal, die of it as the default action would.
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.removeListener('exit', removeLiveTemps);
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function removeLiveTemps(): void {
  for (const t of liveTemps) {
    try {
      unlinkSync(t);
    } catch {
      /* already gone */
    }
  }
  liveTemps.clear();
}

function track(tmp: string): void {
  if (liveTemps.size === 0) {
    for (const s of SIGNALS) process.on(s, onSignal);
    process.on('exit', removeLiveTemps);
  }
  liveTemps.add(tmp);
}

function untrack(tmp: string): void {
  liveTemps.delete(tmp);
  if (liveTemps.size === 0) {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.removeListener('exit', removeLiveTemps);
  }
}

/** Temporary files this process has open right now (for tests). */
export function liveTemporaryFiles(): readonly string[] {
  return [...liveTemps];
}

function defaultMode(): number {
  try {
    return 0o666 & ~process.umask();
  } catch {
    return 0o644; // worker threads cannot read the umask
  }
}

/**
 * Reads a regular file, refusing anything else (a FIFO or device never blocks or streams
 * forever); symlinks are followed to their file. undefined when it does not exist. Files longer
 * than `maxBytes` are refused.
 */
export async function readRegularFile(path: string, maxBytes = 16 << 20): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new NotRegularFileError(path, kindOf(st));
    if (st.size > maxBytes) throw Object.assign(new Error(`${path} is larger than ${maxBytes} bytes; refusing to read it`), { code: 'EFBIG' });
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** readRegularFile, synchronously (for one-shot commands reading one small file). */
export function readRegularFileSync(path: string, maxBytes = 16 << 20): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new NotRegularFileError(path, kindOf(st));
    if (st.size > maxBytes) throw Object.assign(new Error(`${path} is larger than ${maxBytes} bytes; refusing to read it`), { code: 'EFBIG' });
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const link = await lstatOrUndefined(path);
  // A symlink as the target is followed to what it names (ENOENT when it dangles).
  const existing = link?.isSymbolicLink() ? await fs.stat(path) : link;
  if (existing && !existing.isFile()) {
    if (opts.allowStream && (existing.isFIFO() || existing.isCharacterDevice())) return writeToStream(path, bytes, existing);
    throw new NotRegularFileError(path, kindOf(existing));
  }
  const target = link?.isSymbolicLink() ? await fs.realpath(path) : path;
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${nodeCrypto().randomBytes(6).toString('hex')}.tmp`);
  const mode = opts.secret ? 0o600 : existing ? existing.mode & 0o7777 : defaultMode();
  track(tmp);
  try {
    const handle = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      await handle.writeFile(bytes);
      if (mode !== 0o600) await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (existing && (opts.backup ?? opts.secret)) await backupIfChanged(target, bytes);
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  } finally {
    untrack(tmp);
  }
  const dirHandle = await fs.open(dir, 'r').catch(() => undefined);
  if (dirHandle) {
    await dirHandle.sync().catch(() => undefined);
    await dirHandle.close();
  }
}

/** Writes to a FIFO (only when a reader is there: probing with O_NONBLOCK never blocks) or a character device. */
async function writeToStream(path: string, bytes: Uint8Array, st: Stats): Promise<void> {
  if (st.isFIFO()) {
    try {
      await (await fs.open(path, constants.O_WRONLY | constants.O_NONBLOCK)).close();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENXIO') throw Object.assign(new Error(`${path} is a FIFO that no process is reading`), { code: 'ENXIO' });
      throw err;
    }
  }
  await fs.writeFile(path, bytes, { flag: constants.O_WRONLY | constants.O_NOCTTY });
}

async function backupIfChanged(path: string, next: Uint8Array): Promise<void> {
  const previous = await readRegularFile(path, Number.MAX_SAFE_INTEGER);
  if (!previous || previous.equals(next)) return;
  const bak = `${path}.bak`;
  const st = await lstatOrUndefined(bak);
  if (st && !st.isFile()) throw new NotRegularFileError(bak, kindOf(st), 'backup');
  await writeFileAtomic(bak, previous, { secret: true, backup: false });
}
