// Bundles each entry point in src/bin/ into dist/<name>.mjs (one file per executable, so a
// plugin start loads one module instead of hundreds). Native addons stay external.
import { build } from 'esbuild';
import { existsSync, readdirSync, chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, 'src', 'bin');
const entries = readdirSync(binDir).filter((f) => f.endsWith('.ts'));
// The virtual token registry (src/sim/tokens.ts) reads its directory from the sources; the
// bundles get the names found here, and esbuild bundles every ./X/token.ts it can import.
const simDir = join(root, 'src', 'sim');
const simTokens = readdirSync(simDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(simDir, d.name, 'token.ts')))
  .map((d) => d.name)
  .sort();
const define = { __KEYBRIDGE_SIM_TOKENS__: JSON.stringify(simTokens) };
rmSync(join(root, 'dist', 'chunks'), { recursive: true, force: true });
mkdirSync(join(root, 'dist'), { recursive: true });

const banner =
  "import { createRequire as __kbCreateRequire } from 'node:module';\n" +
  'const require = __kbCreateRequire(import.meta.url);';

await Promise.all([
  // One build for all executables with code splitting: each starts by loading only its own small
  // entry chunk; code behind dynamic import() (card access, X.509, subcommands) loads on use.
  build({
    entryPoints: entries.map((file) => join(binDir, file)),
    outdir: join(root, 'dist'),
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['pcsclite', 'node-hid'],
    define,
    banner: { js: '#!/usr/bin/env node\n' + banner },
    legalComments: 'none',
    logLevel: 'warning',
  }).then(() => {
    for (const file of entries) chmodSync(join(root, 'dist', basename(file, '.ts') + '.mjs'), 0o755);
  }),
  build({
    entryPoints: [join(root, 'src', 'index.ts'), join(root, 'src', 'testing.ts')],
    outdir: join(root, 'dist'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    define,
    logLevel: 'warning',
  }),
]);
