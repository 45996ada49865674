// Bundles each entry point in src/bin/ into dist/<name>.mjs (one file per executable, so a
// plugin start loads one module instead of hundreds). Native addons stay external.
//
// One-shot commands (ONE_FILE) are each a single CommonJS file, dist/<name>.cjs (what package.json
// runs): every extra module file costs a resolve + read + compile at start, and an ES module entry
// costs Node's ESM loader (≈ 8 ms here) — together most of what separated them from a bare
// `node -e 0`. Code behind their dynamic import()s is in the same file, compiled only when called,
// except keybridge's heavy subcommands (HEAVY), which are ES module bundles in dist/commands/
// loaded on use. dist/<name>.mjs stays as a two-line shim that loads the .cjs. The others share
// ESM chunks (their card code loads on use).
import { build } from 'esbuild';
import { readdirSync, chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, 'src', 'bin');
const ONE_FILE = new Set(['ssh-to-age.ts', 'keybridge.ts']);
/** keybridge subcommands that stay out of keybridge.cjs (large, and not one-shot). */
const HEAVY = ['demo', 'validate', 'sim', 'rig'];
const entries = readdirSync(binDir).filter((f) => f.endsWith('.ts'));
const shared = entries.filter((f) => !ONE_FILE.has(f));
const single = entries.filter((f) => ONE_FILE.has(f));
// Worker threads' entries: dist/workers/<name>.mjs, found by the code that starts them.
const workers = { 'ssh-to-age-public': join(root, 'src', 'cli', 'sshToAgeWorker.ts') };
rmSync(join(root, 'dist', 'chunks'), { recursive: true, force: true });
rmSync(join(root, 'dist', 'workers'), { recursive: true, force: true });
rmSync(join(root, 'dist', 'commands'), { recursive: true, force: true });
mkdirSync(join(root, 'dist'), { recursive: true });

const banner =
  "import { createRequire as __kbCreateRequire } from 'node:module';\n" +
  'const require = __kbCreateRequire(import.meta.url);';

/** What every bundle of ours shares: ESM for Node 20, native addons left to node_modules. */
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['pcsclite', 'node-hid'], legalComments: 'none', logLevel: 'warning' };
const executable = { ...common, banner: { js: '#!/usr/bin/env node\n' + banner } };
const binPath = (file) => join(root, 'dist', basename(file, '.ts') + '.mjs');
const cjsPath = (file) => join(root, 'dist', basename(file, '.ts') + '.cjs');
/** CommonJS has no import.meta: the bundle gets its own file URL instead. */
const cjs = {
  ...common,
  format: 'cjs',
  define: { 'import.meta.url': '__kbImportMetaUrl' },
  banner: { js: "#!/usr/bin/env node\nconst __kbImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [
    {
      // keybridge's heavy subcommands: import('./validate.ts') → import('./commands/validate.mjs')
      name: 'heavy-commands',
      setup(b) {
        b.onResolve({ filter: new RegExp(`^\\./(${HEAVY.join('|')})\\.ts$`) }, (args) =>
          args.importer.endsWith(join('cli', 'commands.ts')) ? { path: `./commands/${basename(args.path, '.ts')}.mjs`, external: true } : undefined,
        );
      },
    },
  ],
};

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
  ...single.map((file) =>
    build({ ...cjs, entryPoints: [join(binDir, file)], outfile: cjsPath(file) }).then(() => {
      chmodSync(cjsPath(file), 0o755);
      writeFileSync(binPath(file), `#!/usr/bin/env node\n// The command is ${basename(cjsPath(file))} (CommonJS: it starts faster); this name keeps working.\nimport './${basename(cjsPath(file))}';\n`, { mode: 0o755 });
    }),
  ),
  ...HEAVY.map((name) => build({ ...common, banner: { js: banner }, entryPoints: [join(root, 'src', 'cli', `${name}.ts`)], outfile: join(root, 'dist', 'commands', `${name}.mjs`) })),
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
