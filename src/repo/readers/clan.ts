/**
 * clan-core's sops tree: `sops/{users,machines}/<name>/key.json` (one object or a list of
 * `{publickey, type}`), and secrets `sops/secrets/<s>/secret` / `vars/…/secret` whose intended
 * recipients are the `users/`, `machines/` and `groups/` links next to them (read by name, never
 * followed). Paths are read through RepoFs: a file where a directory belongs, an unreadable
 * directory or a link out of the repository is a RepoFsError naming the path.
 */
import { RepoFsError, type RepoFs, type WalkResult } from '../repoFs.ts';

export interface ClanKey {
  kind: 'users' | 'machines';
  name: string;
  file: string;
  /** age public keys (`type: age`), in file order. */
  keys: string[];
  /** The key.json content is not what clan-core accepts (a repo mistake with a fix). */
  error?: string;
  /** The file could not be read at all (permissions, not a regular file, link out of the repo). */
  fsError?: string;
}

export const MAX_KEYS_PER_FILE = 1000;

export function readKeyJson(text: string): string[] {
  const data = JSON.parse(text) as unknown;
  const list = Array.isArray(data) ? data : [data];
  if (list.length > MAX_KEYS_PER_FILE) throw new Error(`lists ${list.length} keys, more than ${MAX_KEYS_PER_FILE}`);
  return list
    .map((e, i) => {
      const entry = e as { publickey?: unknown; type?: unknown };
      if (typeof entry?.type !== 'string' || !['age', 'pgp'].includes(entry.type.toLowerCase())) throw new Error(`entry ${i + 1} has no valid "type" (expected "age" or "pgp"); clan-core rejects it`);
      if (typeof entry.publickey !== 'string' || !entry.publickey) throw new Error(`entry ${i + 1} has no public key`);
      return entry.type.toLowerCase() === 'age' ? entry.publickey.trim() : '';
    })
    .filter(Boolean);
}

/**
 * The key.json files of the walked tree (`walk`): one read per user or machine, no listing. A file
 * where `sops/users` (or a user's directory) belongs is a RepoFsError; a key.json that is a
 * directory is an fsError entry.
 */
export function readClanKeys(fs: RepoFs, walk: Pick<WalkResult, 'files' | 'dirs' | 'dirLinks'>): ClanKey[] {
  const out: ClanKey[] = [];
  for (const kind of ['users', 'machines'] as const) {
    const top = `sops/${kind}`;
    const st = fs.stat(top); // a link out of the repo or a loop is a RepoFsError
    if (!st) continue;
    if (!st.isDirectory()) throw new RepoFsError(top, `is a regular file, not a directory`);
  }
  const entry = /^sops\/(users|machines)\/([^/]+)(?:\/(key\.json))?$/;
  const candidates: { kind: 'users' | 'machines'; name: string; file: string; isDir: boolean }[] = [];
  for (const [list, isDir] of [[walk.files, false], [walk.dirs, true], [walk.dirLinks, true]] as const) {
    for (const rel of list) {
      if (!rel.startsWith('sops/')) continue;
      const m = entry.exec(rel);
      if (m) candidates.push({ kind: m[1] as 'users' | 'machines', name: m[2]!, file: rel, isDir });
    }
  }
  const linked = new Set(walk.dirLinks);
  for (const c of candidates.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) {
    const isKeyJson = c.file.endsWith('/key.json');
    if (!isKeyJson && !c.isDir) {
      out.push({ kind: c.kind, name: c.name, file: c.file, keys: [], fsError: `is not a directory (clan keeps each ${c.kind.slice(0, -1)} in sops/${c.kind}/<name>/key.json)` });
      continue;
    }
    if (isKeyJson && c.isDir) {
      out.push({ kind: c.kind, name: c.name, file: c.file, keys: [], fsError: 'is a directory, not a regular file' });
      continue;
    }
    // A user's directory that is a link inside the repo: its key.json is read through the link.
    const file = isKeyJson ? c.file : linked.has(c.file) ? `${c.file}/key.json` : null;
    if (!file) continue;
    let text: string | null;
    try {
      text = fs.readText(file, 1 << 20);
    } catch (e) {
      out.push({ kind: c.kind, name: c.name, file, keys: [], fsError: e instanceof RepoFsError ? e.cause_ : String(e) });
      continue;
    }
    if (text === null) continue;
    try {
      out.push({ kind: c.kind, name: c.name, file, keys: readKeyJson(text) });
    } catch (e) {
      out.push({ kind: c.kind, name: c.name, file, keys: [], error: (e as Error).message.slice(0, 160) });
    }
  }
  return out;
}

export interface ClanSecret {
  /** Path of the encrypted `secret` file relative to the repo. */
  file: string;
  users: string[];
  machines: string[];
  groups: string[];
  /** Machine owning a `vars/per-machine/<m>/…` secret. */
  machine?: string;
}

/** Names in a directory of recipient links (`users/`, `machines/`, `groups/`); never followed. */
function linkNames(fs: RepoFs, rel: string): string[] {
  const l = fs.lstat(rel);
  if (!l) return [];
  if (!l.isDirectory()) throw new RepoFsError(rel, 'is not a directory of recipient links');
  return fs.list(rel) ?? [];
}

/** The clan secrets among the walked files: `sops/secrets/**\/secret` and `vars/**\/secret`. */
export function readClanSecrets(fs: RepoFs, files: readonly string[]): ClanSecret[] {
  const out: ClanSecret[] = [];
  for (const f of files) {
    if (!f.endsWith('/secret') || !(f.startsWith('sops/secrets/') || f.startsWith('vars/'))) continue;
    const dir = f.slice(0, -'/secret'.length);
    const m = /^vars\/per-machine\/([^/]+)\//.exec(f);
    out.push({ file: f, users: linkNames(fs, `${dir}/users`), machines: linkNames(fs, `${dir}/machines`), groups: linkNames(fs, `${dir}/groups`), ...(m ? { machine: m[1]! } : {}) });
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

export function readClanGroups(fs: RepoFs): Map<string, { users: string[]; machines: string[] }> {
  const groups = new Map<string, { users: string[]; machines: string[] }>();
  for (const g of fs.list('sops/groups') ?? []) groups.set(g, { users: linkNames(fs, `sops/groups/${g}/users`), machines: linkNames(fs, `sops/groups/${g}/machines`) });
  return groups;
}
