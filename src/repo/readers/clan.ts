/**
 * clan-core's sops tree: `sops/{users,machines}/<name>/key.json` (one object or a list of
 * `{publickey, type}`), and secrets `sops/secrets/<s>/secret` / `vars/…/secret` whose intended
 * recipients are the `users/`, `machines/` and `groups/` symlinks next to them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface ClanKey {
  kind: 'users' | 'machines';
  name: string;
  file: string;
  /** age public keys (`type: age`), in file order. */
  keys: string[];
  error?: string;
}

export function readKeyJson(text: string): string[] {
  const data = JSON.parse(text) as unknown;
  const list = Array.isArray(data) ? data : [data];
  return list.map((e, i) => {
    const entry = e as { publickey?: unknown; type?: unknown };
    if (typeof entry?.type !== 'string' || !['age', 'pgp'].includes(entry.type.toLowerCase())) throw new Error(`entry ${i + 1} has no valid "type" (expected "age" or "pgp"); clan-core rejects it`);
    if (typeof entry.publickey !== 'string' || !entry.publickey) throw new Error(`entry ${i + 1} has no public key`);
    return entry.type.toLowerCase() === 'age' ? entry.publickey.trim() : '';
  }).filter(Boolean);
}

export function readClanKeys(root: string): ClanKey[] {
  const out: ClanKey[] = [];
  for (const kind of ['users', 'machines'] as const) {
    const dir = join(root, 'sops', kind);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const file = join(dir, name, 'key.json');
      if (!existsSync(file)) continue;
      try {
        out.push({ kind, name, file: relative(root, file), keys: readKeyJson(readFileSync(file, 'utf8')) });
      } catch (e) {
        out.push({ kind, name, file: relative(root, file), keys: [], error: (e as Error).message });
      }
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

function linkNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort();
}

function walkSecrets(root: string, dir: string, out: ClanSecret[]): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (!st.isDirectory()) continue;
    if (['users', 'machines', 'groups'].includes(entry)) continue;
    const secret = join(p, 'secret');
    if (existsSync(secret)) {
      const rel = relative(root, secret);
      const m = /^vars\/per-machine\/([^/]+)\//.exec(rel);
      out.push({ file: rel, users: linkNames(join(p, 'users')), machines: linkNames(join(p, 'machines')), groups: linkNames(join(p, 'groups')), ...(m ? { machine: m[1]! } : {}) });
    }
    walkSecrets(root, p, out);
  }
}

export function readClanSecrets(root: string): ClanSecret[] {
  const out: ClanSecret[] = [];
  walkSecrets(root, join(root, 'sops', 'secrets'), out);
  walkSecrets(root, join(root, 'vars'), out);
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

export function readClanGroups(root: string): Map<string, { users: string[]; machines: string[] }> {
  const groups = new Map<string, { users: string[]; machines: string[] }>();
  const dir = join(root, 'sops', 'groups');
  if (!existsSync(dir)) return groups;
  for (const g of readdirSync(dir)) groups.set(g, { users: linkNames(join(dir, g, 'users')), machines: linkNames(join(dir, g, 'machines')) });
  return groups;
}

