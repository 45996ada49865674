// Bundles each entry point in src/bin/ into dist/<name>.mjs (one file per executable, so a
// plugin start loads one module instead of hundreds). Native addons stay external.
import { build } from 'esbuild';
import { readdirSync, chmodSync, mkdirSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, 'src', 'bin');
const entries = readdirSync(binDir).filter((f) => f.endsWith('.ts'));
mkdirSync(join(root, 'dist'), { recursive: true });

const banner =
  "import { createRequire as __kbCreateRequire } from 'node:module';\n" +
  'const require = __kbCreateRequire(import.meta.url);';

await Promise.all([
  ...entries.map(async (file) => {
    const out = join(root, 'dist', basename(file, '.ts') + '.mjs');
    await build({
      entryPoints: [join(binDir, file)],
      outfile: out,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['pcsclite', 'node-hid'],
      banner: { js: '#!/usr/bin/env node\n' + banner },
      legalComments: 'none',
      logLevel: 'warning',
    });
    chmodSync(out, 0o755);
  }),
  build({
    entryPoints: [join(root, 'src', 'index.ts')],
    outfile: join(root, 'dist', 'index.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  }),
]);
