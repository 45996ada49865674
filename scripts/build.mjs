// Bundles each entry point in src/bin/ into dist/<name>.mjs (one file per executable, so a
// plugin start loads one module instead of hundreds). Native addons stay external.
//
// One-shot commands (ONE_FILE) are each a single file without shared chunks: every extra file
// costs a resolve + read + compile at start, which is most of what separates them from a bare
// `node -e 0`; the code behind their dynamic import()s is in the same file, compiled only when
// called. The others share chunks (their subcommands and card code load on use).
import { build } from 'esbuild';
import { readdirSync, chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, 'src', 'bin');
const ONE_FILE = new Set(['ssh-to-age.ts']);
const entries = readdirSync(binDir).filter((f) => f.endsWith('.ts'));
const shared = entries.filter((f) => !ONE_FILE.has(f));
const single = entries.filter((f) => ONE_FILE.has(f));
// Worker threads' entries: dist/workers/<name>.mjs, found by the code that starts them.
const workers = { 'ssh-to-age-public': join(root, 'src', 'cli', 'sshToAgeWorker.ts') };
rmSync(join(root, 'dist', 'chunks'), { recursive: true, force: true });
rmSync(join(root, 'dist', 'workers'), { recursive: true, force: true });
mkdirSync(join(root, 'dist'), { recursive: true });

const banner =
  "import { createRequire as __kbCreateRequire } from 'node:module';\n" +
  'const require = __kbCreateRequire(import.meta.url);';

/** What every bundle of ours shares: ESM for Node 20, native addons left to node_modules. */
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['pcsclite', 'node-hid'], legalComments: 'none', logLevel: 'warning' };
const executable = { ...common, banner: { js: '#!/usr/bin/env node\n' + banner } };
const binPath = (file) => join(root, 'dist', basename(file, '.ts') + '.mjs');

await Promise.all([
  // One build for the shared-chunk executables: each starts by loading only its own small entry
  // chunk; code behind dynamic import() (card access, X.509, subcommands) loads on use.
  build({
    ...executable,
    entryPoints: shared.map((file) => join(binDir, file)),
    outdir: join(root, 'dist'),
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    splitting: true,
  }).then(() => {
    for (const file of shared) chmodSync(binPath(file), 0o755);
  }),
  ...single.map((file) => build({ ...executable, entryPoints: [join(binDir, file)], outfile: binPath(file) }).then(() => chmodSync(binPath(file), 0o755))),
  ...Object.entries(workers).map(([name, entry]) => build({ ...common, banner: { js: banner }, entryPoints: [entry], outfile: join(root, 'dist', 'workers', `${name}.mjs`) })),
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
