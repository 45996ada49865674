/** Where the bundled executables are, whether running from dist/ or from source. */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function distDir(): string {
  let here = dirname(fileURLToPath(import.meta.url));
  if (basename(here) === 'chunks') here = dirname(here); // code-split bundle: dist/chunks/*.mjs
  if (existsSync(join(here, 'keybridge.mjs'))) return here;
  return resolve(here, '..', '..', 'dist');
}

/** argv prefix that runs the bundled `keybridge` CLI with this Node. */
export function keybridgeArgv(): [string, string] {
  return [process.execPath, join(distDir(), 'keybridge.mjs')];
}
