// Bundles each entry point in src/bin/ into dist/ (a plugin start loads one small entry chunk
// instead of hundreds of modules). Native addons stay external.
//
// One-shot commands (ONE_FILE) are each a single CommonJS file, dist/<name>.cjs (what package.json
// runs): every extra module file costs a resolve + read + compile at start, and an ES module entry
// costs Node's ESM loader (≈ 8 ms here) — together most of what separated them from a bare
// `node -e 0`. Code behind their dynamic import()s is in the same file, compiled only when called,
// except keybridge's heavy subcommands (HEAVY), which are ES module bundles in dist/commands/
// loaded on use. dist/<name>.mjs stays as a two-line shim that loads the .cjs. The others share
// ESM chunks (their card code loads on use).
import { build } from 'esbuild';
import { existsSync, readdirSync, chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, 'src', 'bin');
const entries = readdirSync(binDir).filter((f) => f.endsWith('.ts'));
const ONE_FILE = new Set(['ssh-to-age.ts', 'keybridge.ts']);
/** keybridge subcommands that stay out of keybridge.cjs (large, and not one-shot). */
const HEAVY = ['demo', 'validate', 'sim', 'rig'];
const shared = entries.filter((f) => !ONE_FILE.has(f));
const single = entries.filter((f) => ONE_FILE.has(f));
// Worker threads' entries: dist/workers/<name>.mjs, found by the code that starts them.
const workers = { 'ssh-to-age-public': join(root, 'src', 'cli', 'sshToAgeWorker.ts') };
// The registries of token families (src/fs/registry.ts) read their directories from the sources;
// the bundles get the names found here, and esbuild bundles every ./X/file.ts a registry's
// template import can reach: the virtual tokens (src/sim/X/token.ts), the plugin families whose
// cli.ts describes a plugin binary (src/cli/programs.ts), and the families' demo steps
// (src/plugins/X/demo.ts, src/cli/demo.ts).
const familyDirs = (dir, file) =>
  readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'kit' && existsSync(join(dir, d.name, file))).map((d) => d.name).sort();
const define = {
  __KEYBRIDGE_SIM_TOKENS__: JSON.stringify(familyDirs(join(root, 'src', 'sim'), 'token.ts')),
  __KEYBRIDGE_PLUGIN_FAMILIES__: JSON.stringify(familyDirs(join(root, 'src', 'plugins'), 'cli.ts')),
  __KEYBRIDGE_DEMO_STEPS__: JSON.stringify(familyDirs(join(root, 'src', 'plugins'), 'demo.ts')),
};
rmSync(join(root, 'dist', 'chunks'), { recursive: true, force: true });
rmSync(join(root, 'dist', 'workers'), { recursive: true, force: true });
rmSync(join(root, 'dist', 'commands'), { recursive: true, force: true });
mkdirSync(join(root, 'dist'), { recursive: true });

const banner =
  "import { createRequire as __kbCreateRequire } from 'node:module';\n" +
  'const require = __kbCreateRequire(import.meta.url);';
/** What every bundle of ours shares: ESM for Node 20, the token registry's names, native addons left to node_modules. */
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', define, external: ['pcsclite', 'node-hid'], legalComments: 'none', logLevel: 'warning' };
const executable = { ...common, banner: { js: '#!/usr/bin/env node\n' + banner } };
const binPath = (file) => join(root, 'dist', basename(file, '.ts') + '.mjs');
const cjsPath = (file) => join(root, 'dist', basename(file, '.ts') + '.cjs');
/** CommonJS has no import.meta: the bundle gets its own file URL instead. */
const cjs = {
  ...common,
  format: 'cjs',
  define: { ...define, 'import.meta.url': '__kbImportMetaUrl' },
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
    ...common,
    entryPoints: [join(root, 'src', 'index.ts'), join(root, 'src', 'testing.ts')],
    outdir: join(root, 'dist'),
    outExtension: { '.js': '.mjs' },
    external: undefined,
    packages: 'external',
  }),
]);

// Man pages and shell completions, generated from the option definitions the parsers use.
await build({
  ...common,
  entryPoints: [join(root, 'scripts', 'docs.ts')],
  outfile: join(root, 'build', 'docs.mjs'),
  banner: { js: banner },
});
rmSync(join(root, 'dist', 'man'), { recursive: true, force: true });
rmSync(join(root, 'dist', 'completions'), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'build', 'docs.mjs'), join(root, 'dist')], { stdio: 'inherit' });

// dist/ holds exactly what this build wrote (npm pack ships all of it): remove leftovers such as
// the bundle of an executable that no longer exists.
const wanted = new Set([
  'index.mjs', 'testing.mjs', 'chunks', 'man', 'completions', 'commands', 'workers',
  ...entries.map((file) => basename(file, '.ts') + '.mjs'),
  ...single.map((file) => basename(file, '.ts') + '.cjs'),
]);
for (const name of readdirSync(join(root, 'dist'))) {
  if (!wanted.has(name)) rmSync(join(root, 'dist', name), { recursive: true, force: true });
}
