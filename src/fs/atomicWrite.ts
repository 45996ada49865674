/**
 * Replaces a file atomically: write a temporary file beside it, fsync, rename over the target,
 * fsync the directory. A failure at any point leaves the target as it was and no temporary
 * file behind. Secret files get mode 0600 whatever the umask; a replaced secret file is kept
 * as `<path>.bak` first (unless its content is unchanged).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** The file holds a secret: mode 0600 and a `.bak` of any different previous content. */
  readonly secret?: boolean;
  /** Keep a changed previous version as `<path>.bak` (default: when `secret`). */
  readonly backup?: boolean;
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const handle = await fs.open(tmp, 'wx', opts.secret ? 0o600 : 0o666);
  try {
    try {
      if (opts.secret) await handle.chmod(0o600);
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (opts.backup ?? opts.secret) await backupIfChanged(path, bytes);
    await fs.rename(tmp, path);
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
