/**
 * Replaces a file atomically: write a temporary file beside it, fsync, rename over the target,
 * fsync the directory. A failure at any point leaves the target as it was and no temporary
 * file behind. Secret files get mode 0600 whatever the umask, and a replaced secret file is
 * kept as `<path>.bak` first (unless its content is unchanged); other files keep the mode of
 * the file they replace. A symlink is followed (its target is replaced, the link stays), and a
 * path that is not a regular file (/dev/stdout, a FIFO, `>(…)`) is written to directly.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** The file holds a secret: mode 0600 and a `.bak` of any different previous content. */
  readonly secret?: boolean;
  /** Keep a changed previous version as `<path>.bak` (default: when `secret`). */
  readonly backup?: boolean;
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const existing = await statOrUndefined(path);
  if (existing && !existing.isFile()) {
    if (existing.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), { code: 'EISDIR' });
    await fs.writeFile(path, bytes);
    return;
  }
  const target = existing ? await fs.realpath(path) : path;
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const mode = opts.secret ? 0o600 : existing ? existing.mode & 0o7777 : undefined;
  const handle = await fs.open(tmp, 'wx', opts.secret ? 0o600 : 0o666);
  try {
    try {
      if (mode !== undefined) await handle.chmod(mode);
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (opts.backup ?? opts.secret) await backupIfChanged(target, bytes);
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  const dirHandle = await fs.open(dir, 'r').catch(() => undefined);
  if (dirHandle) {
    await dirHandle.sync().catch(() => undefined);
    await dirHandle.close();
  }
}

async function backupIfChanged(path: string, next: Uint8Array): Promise<void> {
  let previous: Buffer;
  try {
    previous = await fs.readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (previous.equals(next)) return;
  await writeFileAtomic(`${path}.bak`, previous, { secret: true, backup: false });
}
