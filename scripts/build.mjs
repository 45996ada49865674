// Bundles each entry point in src/bin/ into dist/<name>.mjs (one file per executable, so a
// plugin start loads one module instead of hundreds). Native addons stay external.
import { build } from 'esbuild';
import { existsSync, readdirSync, chmodSync, mkdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
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
// Likewise the plugin families whose cli.ts describes a plugin binary (src/cli/programs.ts).
const pluginDir = join(root, 'src', 'plugins');
const pluginFamilies = readdirSync(pluginDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'kit' && existsSync(join(pluginDir, d.name, 'cli.ts')))
  .map((d) => d.name)
  .sort();
const define = { __KEYBRIDGE_SIM_TOKENS__: JSON.stringify(simTokens), __KEYBRIDGE_PLUGIN_FAMILIES__: JSON.stringify(pluginFamilies) };
rmSync(join(root, 'dist', 'chunks'), { recursive: true, force: true });
mkdirSync(join(root, 'dist'), { recursive: true });

const banner =
  "import { createRequire as __kbCreateRequire } from 'node:module';\n" +
  'const require = __kbCreateRequire(import.meta.url);';
// What every bundle shares: ESM for Node 20, the token registry's names.
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', define, logLevel: 'warning' };

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
    ...common,
    external: ['pcsclite', 'node-hid'],
    banner: { js: '#!/usr/bin/env node\n' + banner },
    legalComments: 'none',
  }).then(() => {
    for (const file of entries) chmodSync(join(root, 'dist', basename(file, '.ts') + '.mjs'), 0o755);
  }),
  build({
    entryPoints: [join(root, 'src', 'index.ts'), join(root, 'src', 'testing.ts')],
    outdir: join(root, 'dist'),
    outExtension: { '.js': '.mjs' },
    ...common,
    packages: 'external',
  }),
]);

// Man pages and shell completions, generated from the option definitions the parsers use.
await build({
  entryPoints: [join(root, 'scripts', 'docs.ts')],
  outfile: join(root, 'build', 'docs.mjs'),
  ...common,
  external: ['pcsclite', 'node-hid'],
  banner: { js: banner },
});
rmSync(join(root, 'dist', 'man'), { recursive: true, force: true });
rmSync(join(root, 'dist', 'completions'), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'build', 'docs.mjs'), join(root, 'dist')], { stdio: 'inherit' });

// dist/ holds exactly what this build wrote (npm pack ships all of it): remove leftovers such as
// the bundle of an executable that no longer exists.
const wanted = new Set(['index.mjs', 'testing.mjs', 'chunks', 'man', 'completions', ...entries.map((file) => basename(file, '.ts') + '.mjs')]);
for (const name of readdirSync(join(root, 'dist'))) {
  if (!wanted.has(name)) rmSync(join(root, 'dist', name), { recursive: true, force: true });
}
