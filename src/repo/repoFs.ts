/**
 * The repository as hostile input: every path is resolved inside the root, symbolic links are
 * never followed out of it, only regular files are opened (a FIFO or device is refused before it
 * can block), sizes are bounded, and the walk visits each directory once whatever links point
 * where. Whatever cannot be read is reported with its path and cause, never skipped silently.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Files larger than this are not read (sops and age files of a secrets repo are far smaller). */
export const MAX_FILE_BYTES = 16 << 20;
const MAX_DEPTH = 64;
const MAX_ENTRIES = 2_000_000;

export class RepoFsError extends Error {
  constructor(
    readonly path: string,
    readonly cause_: string,
  ) {
    super(`${path}: ${cause_}`);
    this.name = 'RepoFsError';
  }
}

/** Something in the tree that was not read, and why. */
export interface FsProblem {
  path: string;
  cause: string;
}

function kindOf(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function errnoCause(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'does not exist';
    case 'ELOOP':
      return 'symbolic link loop';
    case 'ENOTDIR':
      return 'a path component is not a directory';
    case 'EISDIR':
      return 'is a directory';
    default:
      return code ? `cannot be read (${code})` : 'cannot be read';
  }
}

export class RepoFs {
  readonly root: string;
  private readonly realRoot: string;
  /** The root with one trailing separator: `prefix + rel` is the path of a walked entry (no normalising per file). */
  private readonly prefix: string;

  constructor(root: string) {
    this.root = root;
    let st: Stats;
    try {
      st = statSync(root);
    } catch (e) {
      throw new RepoFsError(root, errnoCause(e));
    }
    if (!st.isDirectory()) throw new RepoFsError(root, 'is not a directory');
    this.realRoot = realpathSync(root);
    this.prefix = root.endsWith(sep) ? root : root + sep;
  }

  /** The path of `rel` (a walked path, or '' for the root) for a system call. */
  path(rel: string): string {
    return rel === '' ? this.root : this.prefix + rel;
  }

  private inside(real: string): boolean {
    return real === this.realRoot || real.startsWith(this.realRoot + sep);
  }

  /** A path relative to the root, or null when it leaves the root. */
  rel(abs: string): string | null {
    const r = relative(this.root, abs);
    return r.startsWith('..') || r.startsWith(sep) ? null : r;
  }

  /**
   * The status of `rel` with symbolic links resolved — only when the target stays inside the
   * root. Returns null when nothing is there; throws RepoFsError for links out of the root, loops
   * and unreadable paths.
   */
  stat(rel: string): Stats | null {
    if (rel.split(/[\\/]/).includes('..')) throw new RepoFsError(rel, 'leaves the repository (..)');
    const abs = join(this.root, rel);
    let l: Stats;
    try {
      l = lstatSync(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new RepoFsError(rel, errnoCause(e));
    }
    // Any link on the way (the entry itself or a parent directory) is checked by resolving it.
    let real: string;
    try {
      real = realpathSync(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new RepoFsError(rel, 'is a symbolic link to nothing (dangling)');
      throw new RepoFsError(rel, errnoCause(e));
    }
    if (!this.inside(real)) throw new RepoFsError(rel, `is a symbolic link out of the repository (to ${real.slice(0, 120)}); not followed`);
    if (!l.isSymbolicLink()) return l;
    try {
      return statSync(real);
    } catch (e) {
      throw new RepoFsError(rel, errnoCause(e));
    }
  }

  exists(rel: string): boolean {
    try {
      return this.stat(rel) !== null;
    } catch {
      return true; // something is there; reading it reports why it cannot be used
    }
  }

  /** Files the walk found as regular files on a path of real directories: no link to resolve. */
  private readonly walked = new Set<string>();

  markWalked(rel: string): void {
    this.walked.add(rel);
  }

  /** The bytes of a regular file inside the root; null when absent. Throws RepoFsError otherwise. */
  readBytes(rel: string, maxBytes = MAX_FILE_BYTES, enough?: (head: Buffer) => boolean): Uint8Array | null {
    return this.readWith(rel, maxBytes, (path) => readRegularFile(path, maxBytes, enough));
  }

  /** The text (UTF-8) of a regular file inside the root; null when absent. Throws RepoFsError otherwise. */
  readText(rel: string, maxBytes = MAX_FILE_BYTES): string | null {
    return this.readWith(rel, maxBytes, (path) => readRegularText(path, maxBytes));
  }

  private readWith<T>(rel: string, maxBytes: number, reader: (path: string) => T): T | null {
    if (this.walked.has(rel)) {
      // Found by the walk through real directories: the descriptor's fstat is the only check needed.
      try {
        return reader(this.path(rel));
      } catch (e) {
        throw e instanceof RepoFsError ? new RepoFsError(rel, e.cause_) : e;
      }
    }
    const st = this.stat(rel);
    if (!st) return null;
    if (!st.isFile()) throw new RepoFsError(rel, `is ${kindOf(st)}, not a regular file`);
    if (st.size > maxBytes) throw new RepoFsError(rel, `is ${st.size} bytes, larger than the ${maxBytes}-byte limit; not read`);
    try {
      // Opened without blocking and checked again on the descriptor: a FIFO swapped in after the
      // check cannot hang the read.
      return reader(join(this.root, rel));
    } catch (e) {
      throw e instanceof RepoFsError ? new RepoFsError(rel, e.cause_) : e;
    }
  }

  /**
   * Entry names of a directory inside the root; null when absent. Throws RepoFsError when it is
   * not a directory, leaves the root or cannot be listed.
   */
  list(rel: string): string[] | null {
    const st = this.stat(rel);
    if (!st) return null;
    if (!st.isDirectory()) throw new RepoFsError(rel, `is ${kindOf(st)}, not a directory`);
    try {
      return readdirSync(join(this.root, rel)).sort();
    } catch (e) {
      throw new RepoFsError(rel, errnoCause(e));
    }
  }

  /** lstat without following anything (for symlink-only listings such as clan's recipient links). */
  lstat(rel: string): Stats | null {
    try {
      return lstatSync(join(this.root, rel));
    } catch {
      return null;
    }
  }
}

/** The text of bytes read by RepoFs (decoded in place, not copied first). */
export function utf8(b: Uint8Array): string {
  return (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)).toString('utf8');
}

/**
 * A file outside any repository (keys.txt, an export, ssh-keyscan output): regular files only,
 * opened without blocking, size-bounded. Throws RepoFsError naming the path and the cause.
 */
export function readRegularFile(path: string, maxBytes = MAX_FILE_BYTES, enough?: (head: Buffer) => boolean): Buffer {
  return withRegularFile(path, maxBytes, (fd, size) => {
    if (!enough) return readAll(fd, size);
    // The file is read in growing pieces until enough(what was read) says so.
    let buf = Buffer.allocUnsafe(Math.min(size, HEAD_BYTES)); // every byte is read into it (or cut off below)
    let off = 0;
    for (;;) {
      if (off === buf.length) {
        if (buf.length >= size || enough(buf)) break;
        const bigger = Buffer.allocUnsafe(Math.min(size, buf.length * 4));
        buf.copy(bigger, 0, 0, off);
        buf = bigger;
      }
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  });
}

/** Reused for the text of small files (reading is synchronous): no buffer per file. */
const scratch = Buffer.allocUnsafe(64 << 10);

/** readRegularFile decoded as UTF-8. */
export function readRegularText(path: string, maxBytes = MAX_FILE_BYTES): string {
  return withRegularFile(path, maxBytes, (fd, size) => {
    if (size > scratch.length) return utf8(readAll(fd, size));
    let off = 0;
    while (off < size) {
      const n = readSync(fd, scratch, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return scratch.toString('utf8', 0, off);
  });
}

/** `size` bytes from the start of `fd` (fewer if it ends sooner). */
function readAll(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size); // every byte is read into it (or cut off below)
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

/** Opens `path` without blocking, checks on the descriptor that it is a regular file within the size bound, and runs `read`. */
function withRegularFile<T>(path: string, maxBytes: number, read: (fd: number, size: number) => T): T {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new RepoFsError(path, errnoCause(e));
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new RepoFsError(path, `is ${kindOf(st)}, not a regular file`);
    if (st.size > maxBytes) throw new RepoFsError(path, `is ${st.size} bytes, larger than the ${maxBytes}-byte limit`);
    return read(fd, st.size);
  } catch (e) {
    if (e instanceof RepoFsError) throw e;
    throw new RepoFsError(path, errnoCause(e));
  } finally {
    closeSync(fd);
  }
}

/** The first piece read of a file read only as far as needed (an age header is far smaller). */
const HEAD_BYTES = 16 << 10;

export interface WalkResult {
  /** Regular files (and links to regular files inside the root), relative to the root. */
  files: string[];
  /** Real directories, and links to directories inside the root (not entered). */
  dirs: string[];
  dirLinks: string[];
  /** Entries that could not be walked or are not what their name promises. */
  problems: FsProblem[];
}

/**
 * Every regular file under the root. Directories are entered by their real path only (a link to
 * a directory inside the root is not entered: its target is walked where it is), so links to `.`
 * cannot multiply the walk; links out of the root, loops and dangling links are reported when
 * `wanted(name)` says the entry is one validation would read, as are FIFOs, sockets and devices.
 */
export function walkRepo(fs: RepoFs, skipDirs: ReadonlySet<string>, wanted: (rel: string) => boolean): WalkResult {
  const files: string[] = [];
  const dirs: string[] = [];
  const dirLinks: string[] = [];
  const problems: FsProblem[] = [];
  let count = 0;
  const visit = (dir: string, depth: number): void => {
    if (depth > MAX_DEPTH) {
      problems.push({ path: dir, cause: `nested deeper than ${MAX_DEPTH} directories; not walked further` });
      return;
    }
    let entries: Dirent[];
    try {
      // withFileTypes: the entry types come with the listing (no lstat per entry).
      entries = readdirSync(fs.path(dir), { withFileTypes: true });
    } catch (e) {
      problems.push({ path: dir || '.', cause: `${errnoCause(e)}; its contents were not checked` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const name = entry.name;
      if (++count > MAX_ENTRIES) {
        if (count === MAX_ENTRIES + 1) problems.push({ path: dir || '.', cause: `more than ${MAX_ENTRIES} entries in the repository; the rest was not walked` });
        return;
      }
      if (skipDirs.has(name)) continue;
      const rel = dir ? `${dir}/${name}` : name;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      let isLink = entry.isSymbolicLink();
      let l: Stats | undefined;
      if (!isDir && !isFile && !isLink) {
        try {
          l = lstatSync(fs.path(rel)); // file systems without d_type report "unknown"
        } catch (e) {
          problems.push({ path: rel, cause: errnoCause(e) });
          continue;
        }
        isDir = l.isDirectory();
        isFile = l.isFile();
        isLink = l.isSymbolicLink();
      }
      if (isDir) {
        dirs.push(rel);
        visit(rel, depth + 1);
      } else if (isFile) {
        files.push(rel);
        fs.markWalked(rel);
      } else if (isLink) {
        let st: Stats | null;
        try {
          st = fs.stat(rel);
        } catch (e) {
          // clan's recipient links (users/, machines/, groups/) are read by name, not followed.
          if (wanted(rel)) problems.push({ path: rel, cause: (e as RepoFsError).cause_ ?? errnoCause(e) });
          continue;
        }
        if (st?.isFile()) files.push(rel);
        else if (st?.isDirectory()) dirLinks.push(rel);
        else if (st && !st.isDirectory() && wanted(rel)) problems.push({ path: rel, cause: `links to ${kindOf(st)}, not a regular file` });
      } else if (wanted(rel)) problems.push({ path: rel, cause: `is ${l ? kindOf(l) : 'not a regular file'}, not a regular file; not read` });
    }
  };
  visit('', 0);
  return { files, dirs, dirLinks, problems };
}
