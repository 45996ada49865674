/**
 * Finding and loading keybridge's native addons (native/build/Release/<name>.node, built at
 * install by scripts/build-native.mjs) from a checkout (src/…) or the bundle (dist/, dist/chunks/,
 * dist/lib/…): the nearest directory above the calling module that holds the file.
 */
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's path, relative to the package root. */
function addonRelativePath(name: string): string {
  return join('native', 'build', 'Release', `${name}.node`);
}

/**
 * This module's directory: a CommonJS bundle's own __dirname, else from import.meta.url (which a
 * CommonJS bundle would first build as a URL from its file name, at a one-shot command's start).
 */
const here = (): string => (typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url)));

/** The addon's absolute path (searched from `from`, a file URL, default this module), or undefined when it is not built. */
export function findAddon(name: string, from?: string): string | undefined {
  const rel = addonRelativePath(name);
  let dir = from === undefined ? here() : dirname(fileURLToPath(from));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, rel);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/**
 * The addons opened so far, by path: an addon is opened once per process, whichever bundle of
 * the package opens it (the cached loaders of scripts/build.mjs open keybridge_openssl first, to
 * read their code caches, and register it here).
 */
const registry = process as unknown as Record<symbol, Map<string, unknown> | undefined>;
const opened: Map<string, unknown> = (registry[Symbol.for('keybridge.nativeAddons')] ??= new Map());

/** The addon's exports, or why it is unavailable. */
export function loadAddon<T>(name: string): { addon?: T; path?: string; reason?: string } {
  const rel = addonRelativePath(name);
  // one a loader opened (of this package: its native/ directory) is taken without a search
  for (const [path, addon] of opened) if (path.endsWith(`${sep}${rel}`)) return { addon: addon as T, path };
  const path = findAddon(name);
  if (!path) return { reason: `the native addon (${rel}) is not built; build it with \`node scripts/build-native.mjs\` (needs a C compiler and the Node headers)` };
  try {
    let addon = opened.get(path);
    if (addon === undefined) {
      // process.dlopen, what require() of a .node file runs, without node's module resolution
      const m = { exports: {} };
      process.dlopen(m, path);
      opened.set(path, (addon = m.exports));
    }
    return { addon: addon as T, path };
  } catch (e) {
    return { path, reason: `the native addon ${path} cannot be loaded (${(e as Error).message}); rebuild it with \`node scripts/build-native.mjs\`` };
  }
}
