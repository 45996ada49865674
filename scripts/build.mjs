// Bundles each entry point in src/bin/ into dist/ (a plugin start loads one small entry chunk
// instead of hundreds of modules). Native addons stay external.
//
// One-shot commands (ONE_FILE) are CommonJS files, dist/<name>.cjs (what package.json runs):
// every extra module file costs a resolve + read + compile at start, and an ES module entry
// costs Node's ESM loader (≈ 8 ms here) — together most of what separated them from a bare
// `node -e 0`. dist/<name>.mjs stays as a two-line shim that loads the .cjs. ssh-to-age and the
// age plugins are one file each (code behind their dynamic import()s — card access, the family,
// subcommands — is in it, wrapped by esbuild so that its module code runs only when first
// imported; V8 compiles a function only when it is first called). keybridge.cjs is
// only the entry (--help, --version, the command table): each subcommand of src/cli/commands.ts
// is its own bundle in dist/commands/, loaded on use — CommonJS (commands/<name>.cjs), or an
// ES module (commands/<name>.mjs) for the large ones that are not one-shot (HEAVY).
import { build, transform } from 'esbuild';
import { existsSync, readdirSync, readFileSync, chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { createRequire, isBuiltin } from 'node:module';
import { join, dirname, basename, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, 'src', 'bin');
const entries = readdirSync(binDir).filter((f) => f.endsWith('.ts'));
const ONE_FILE = new Set(['ssh-to-age.ts', 'keybridge.ts']);
/** The age plugins: CommonJS files split at their dynamic imports (dist/lib/<name>/), run by a small loader with V8's code cache. */
const PLUGINS = entries.filter((f) => f.startsWith('age-plugin-'));
/** keybridge's subcommand modules: every `import('./X.ts')` of src/cli/commands.ts. */
const commandsTable = join(root, 'src', 'cli', 'commands.ts');
const COMMANDS = [...readFileSync(commandsTable, 'utf8').matchAll(/import\(['"]\.\/([\w-]+)\.ts['"]\)/g)].map((m) => m[1]);
/** keybridge subcommands bundled as ES modules (large, and not one-shot). */
const HEAVY = ['demo', 'validate', 'sim', 'rig'];
/**
 * One-shot commands whose bundle runs with a V8 code cache (cachedLoader): the ssh-to-age
 * executable (its bundle is dist/lib/ssh-to-age.cjs) and the keybridge subcommands people run
 * one key at a time (dist/lib/keybridge-<name>.cjs, required through dist/commands/<name>.cjs).
 * Compiling the bundle was most of what separated them from a bare node; the build makes the
 * caches by running each (scripts/commandCache.ts).
 */
const CACHED_BINS = ['ssh-to-age.ts'];
const CACHED_COMMANDS = ['bw', 'ssh-to-age'];
/**
 * Modules a cached subcommand imports with import() for one of its commands only, bundled as
 * their own file in dist/lib/ and required from there on use: `bw sync`'s keys.txt merge and the
 * age library it needs are not read at each `bw derive`.
 */
const SPLIT = { bw: { [join(root, 'src', 'bitwarden', 'keysFile.ts')]: 'keybridge-bw-sync.cjs' } };
const splitModules = (name) => ({
  name: 'split-modules',
  setup(b) {
    b.onResolve({ filter: /\.ts$/ }, (args) => {
      const file = args.kind === 'dynamic-import' ? SPLIT[name]?.[join(args.resolveDir, args.path)] : undefined;
      return file ? { path: `./${file}`, external: true } : undefined;
    });
  },
});
const shared = entries.filter((f) => !ONE_FILE.has(f) && !PLUGINS.includes(f));
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
rmSync(join(root, 'dist', 'lib'), { recursive: true, force: true });
mkdirSync(join(root, 'dist'), { recursive: true });

const banner =
  "import { createRequire as __kbCreateRequire } from 'node:module';\n" +
  'const require = __kbCreateRequire(import.meta.url);';
/** What every bundle of ours shares: ESM for Node 20, the token registry's names, native addons left to node_modules. */
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', define, external: ['node-hid'], legalComments: 'none', logLevel: 'warning' };
/**
 * Node's built-in modules through the bundle's `require` instead of `import`: an ES module
 * import of a built-in builds its ESM facade, reading every export — for node:fs that loads the
 * whole stream machinery (≈ 14 ms of a plugin's start).
 */
const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => (args.kind === 'import-statement' ? { path: args.path, namespace: 'node-builtin' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
    b.onResolve({ filter: /^node:/, namespace: 'node-builtin' }, (args) => ({ path: args.path, external: true }));
  },
};
/**
 * pcsclite's JavaScript bundled with its addon required by path, where node-gyp builds it: its
 * own lookup (the `bindings` package: a stack trace and a dozen candidate paths) is most of the
 * time an identity-v1 spends before its first card access. Should the addon be elsewhere, the
 * package is required as it is. The build fails if pcsclite's code no longer has that lookup.
 */
const PCSCLITE_LOOKUP = "require('bindings')('pcsclite')";
const pcscliteByPath = {
  name: 'pcsclite-by-path',
  setup(b) {
    b.onResolve({ filter: /^pcsclite$/ }, (args) => (args.namespace === 'pcsclite-by-path' ? { path: 'pcsclite', external: true } : { path: 'pcsclite', namespace: 'pcsclite-by-path' }));
    b.onResolve({ filter: /^pcsclite\/build\/Release\/pcsclite\.node$/ }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'pcsclite-by-path' }, () => {
      const lib = readFileSync(createRequire(import.meta.url).resolve('pcsclite/lib/pcsclite.js'), 'utf8');
      if (lib.split(PCSCLITE_LOOKUP).length !== 2) throw new Error(`pcsclite/lib/pcsclite.js no longer loads its addon with ${PCSCLITE_LOOKUP}: update pcscliteByPath in scripts/build.mjs`);
      const body = lib.replace(PCSCLITE_LOOKUP, 'addon');
      return {
        loader: 'js',
        resolveDir: root,
        contents: [
          'function addonByPath() {',
          "  try { return require('pcsclite/build/Release/pcsclite.node'); } catch (e) { if (e.code !== 'MODULE_NOT_FOUND') throw e; }",
          '}',
          'function fromAddon(addon) {',
          '  const module = { exports: {} };',
          body,
          '  return module.exports;',
          '}',
          'const addon = addonByPath();',
          "module.exports = addon ? fromAddon(addon) : require('pcsclite');",
        ].join('\n'),
      };
    });
  },
};
/**
 * node-hid's JavaScript bundled into the plugins with its addon required by path, where node-hid
 * ships the prebuilt one for this platform: its own lookup (pkg-prebuilds: a module of its own,
 * node:os and a stat of each candidate path) and its node_modules resolution are most of what
 * the FIDO2 plugins spend looking for a key over USB HID. Should that addon not be there or not
 * load (a musl system, a local build), node-hid's own lookup runs as it is. The build fails if
 * node-hid's code no longer has that lookup.
 */
const NODE_HID_LOOKUP = 'binding = require("pkg-prebuilds/bindings")(__dirname, options);';
const nodeHidByPath = {
  name: 'node-hid-by-path',
  setup(b) {
    b.onResolve({ filter: /^node-hid$/ }, () => ({ path: 'node-hid', namespace: 'node-hid-by-path' }));
    b.onResolve({ filter: /^\.\/binding-options$/, namespace: 'node-hid-by-path' }, () => ({ path: createRequire(import.meta.url).resolve('node-hid/binding-options.js') }));
    b.onResolve({ filter: /.*/, namespace: 'node-hid-by-path' }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'node-hid-by-path' }, () => {
      const lib = readFileSync(createRequire(import.meta.url).resolve('node-hid/nodehid.js'), 'utf8');
      if (lib.split(NODE_HID_LOOKUP).length !== 2) throw new Error(`node-hid/nodehid.js no longer loads its addon with ${NODE_HID_LOOKUP}: update nodeHidByPath in scripts/build.mjs`);
      const body = lib
        .replace(NODE_HID_LOOKUP, 'binding = bindingByPath(options);')
        .replace('require("events")', 'require("node:events")')
        .replace('require("util")', 'require("node:util")');
      return {
        loader: 'js',
        resolveDir: root,
        contents: [
          'function bindingByPath(options) {',
          '  const prebuilt = `node-hid/prebuilds/${options.name}-${process.platform}-${process.arch}/node-napi-v${options.napi_versions[0]}.node`;',
          '  try { return require(prebuilt); } catch {}',
          "  return require('pkg-prebuilds/bindings')(require('node:path').dirname(require.resolve('node-hid')), options);",
          '}',
          body,
        ].join('\n'),
      };
    });
  },
};
const executable = { ...common, banner: { js: '#!/usr/bin/env node\n' + banner }, plugins: [builtinsByRequire, pcscliteByPath] };
const binPath = (file) => join(root, 'dist', basename(file, '.ts') + '.mjs');
const cjsPath = (file) => join(root, 'dist', basename(file, '.ts') + '.cjs');
/** CommonJS has no import.meta: the bundle gets its own file URL instead, made on first use. */
const cjsBanner = "const __kbImportMeta = { get url() { return (this.href ??= require('node:url').pathToFileURL(__filename).href); } };";
const IMPORT_META_URL = '__kbImportMeta.url';
/**
 * node:module as the sources use it — createRequire(import.meta.url) to load a built-in module or
 * an addon on first use — without loading it until something else than a built-in is required:
 * requiring node:module sets up node's ES module loader. Built-ins come from the bundle's own
 * require; the rest (addons, packages, require.resolve) from node's createRequire.
 */
const lazyNodeModule = {
  name: 'lazy-node-module',
  setup(b) {
    b.onResolve({ filter: /^node:module$/ }, (args) => (args.namespace === 'lazy-node-module' ? { path: args.path, external: true } : args.kind === 'import-statement' && !args.importer.includes('node_modules') ? { path: args.path, namespace: 'lazy-node-module' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy-node-module' }, () => ({
      loader: 'js',
      contents: [
        'let nodeModule;',
        'export function createRequire(url) {',
        "  let outside;",
        "  const node = () => (outside ??= (nodeModule ??= require('node:module')).createRequire(url));",
        "  const req = (id) => (typeof id === 'string' && id.startsWith('node:') ? require(id) : node()(id));",
        '  req.resolve = (id, options) => node().resolve(id, options);',
        '  return req;',
        '}',
      ].join('\n'),
    }));
  },
};
const cjs = { ...common, format: 'cjs', define: { ...define, 'import.meta.url': IMPORT_META_URL }, banner: { js: cjsBanner } };
/**
 * The subcommands of src/cli/commands.ts as separate bundles, for a bundle written to `dir`:
 * import('./bw.ts') becomes require('./commands/bw.cjs') (no ESM loader) and
 * import('./validate.ts') import('./commands/validate.mjs').
 */
const subcommands = (dir) => ({
  name: 'keybridge-subcommands',
  setup(b) {
    const prefix = relative(dir, join(root, 'dist', 'commands'));
    const rel = (file) => (prefix ? `./${prefix}/${file}` : `./${file}`);
    b.onResolve({ filter: /^\.\/[\w-]+\.ts$/ }, (args) => {
      if (args.importer !== commandsTable) return undefined;
      const name = basename(args.path, '.ts');
      if (!COMMANDS.includes(name)) return undefined;
      if (HEAVY.includes(name)) return { path: rel(`${name}.mjs`), external: true };
      return { path: name, namespace: 'keybridge-subcommand' };
    });
    b.onLoad({ filter: /.*/, namespace: 'keybridge-subcommand' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(rel(`${args.path}.cjs`))});`, loader: 'js' }));
    b.onResolve({ filter: /\.cjs$/, namespace: 'keybridge-subcommand' }, (args) => ({ path: args.path, external: true }));
  },
});
/**
 * A loader that runs CommonJS code through node:vm with the V8 code caches the build made for it
 * with this node: the entry `rel` (from the loader's directory) and the files beside it that it
 * requires as './X' (a plugin's chunks, which esbuild split off at dynamic imports, or a command's
 * part used only by some subcommands), each with its own <file>.cache: the functions a run
 * compiles are read from the cache instead of parsed and compiled again. V8 rejects a cache from
 * another node version or other flags, and then compiles as usual; a missing cache is the same.
 * With `pack` (the plugins), how age runs a plugin — a lone `--age-plugin=NAME`, every time —
 * takes the files that state machine loads from one file beside them, packFileName(NAME)
 * (buildPack; one for each of PACK_MODES): one read and one cache for the two dozen files of that
 * path instead of a read, a cache and a compile for each, and only what that mode runs (a
 * recipient-v1 wrap does not read the card access code, nor its compiled functions).
 * Nothing is written at run time except when the build asks for the caches
 * (KEYBRIDGE_CODE_CACHE_OUT: the directory to write <file>.cache of every loaded file to, when the
 * process exits; KEYBRIDGE_CODE_CACHE_LIST: a file to append the names of the loaded files to).
 * The entry's exports are the loader's (a keybridge subcommand is required through its loader).
 */
const PACK_MODES = ['identity-v1', 'recipient-v1'];
const packFileName = (mode) => `start.${mode}.pack.cjs`;
const cachedLoader = (what, rel, pack = false) => `#!/usr/bin/env node
'use strict';
// ${what}: the code is ${rel} and the files it requires beside it, run with their V8 code caches (see scripts/build.mjs).
const { readFileSync, writeFileSync } = require('node:fs');
const { Script } = require('node:vm');
const { basename, dirname, join } = require('node:path');
const entry = join(__dirname, '${rel}');
const dir = dirname(entry);
// what is not a file beside the entry: a built-in through this file's require, anything else
// (packages, addons) through node's require as the entry would have it, made on first use; node's
// CommonJS Module class has createRequire (require('node:module') would also load the ES module loader)
let entryRequire;
const entryRequireOf = () => (entryRequire ??= module.constructor.createRequire(entry));
const outside = (id) => (id.startsWith('node:') ? require(id) : entryRequireOf()(id));
const loaded = new Map();
const own = (id) => (id.startsWith('./') ? load(id.slice(2)) : outside(id));
own.resolve = (id) => entryRequireOf().resolve(id);
${pack ? `// the addon keybridge_openssl's readFile, when it is built: node's readFileSync of a binary file
// runs a dozen of node's fs functions, each compiled at every start, which a plugin's protocol run
// needs for nothing else; the plugin opens that addon anyway, for its crypto, and
// src/nativeAddon.ts takes it from the process's registry of opened addons
const OPENSSL_ADDON = join(__dirname, '..', 'native', 'build', 'Release', 'keybridge_openssl.node');
function nativeRead() {
  if (process.env.KEYBRIDGE_NO_NATIVE_OPENSSL === '1') return undefined;
  try {
    const m = { exports: {} };
    process.dlopen(m, OPENSSL_ADDON);
    (process[Symbol.for('keybridge.nativeAddons')] ??= new Map()).set(OPENSSL_ADDON, m.exports);
    const { readFile } = m.exports;
    // (a cache is a few hundred kilobytes: 64 MiB bounds a damaged one)
    if (typeof readFile === 'function') return (f) => readFile(f, 1 << 26) ?? undefined;
  } catch {}
}
` : ''}// a file's code cache, undefined when it cannot be read
let readCache;
function cacheOf(file) {
  readCache ??= ${pack ? 'nativeRead() ?? ' : ''}((f) => readFileSync(f));
  try {
    return readCache(file);
  } catch {}
}
${pack ? '// the running protocol mode\'s pack (its file(name) runs a file in it and returns its exports)\nlet pack;\n' : ''}function load(file) {
  let m = loaded.get(file);
  if (m) return m.exports;
${pack ? `  const packed = pack && loaded.get(pack)?.exports.file?.(file);
  if (packed) {
    loaded.set(file, { exports: packed });
    return packed;
  }
` : ''}  const path = join(dir, file);
  const cachedData = cacheOf(path + '.cache');
  // the source as node's CommonJS loader wraps it (Module.wrap)
  const script = new Script('(function (exports, require, module, __filename, __dirname) { ' + readFileSync(path, 'utf8') + '\\n});', { filename: path, cachedData });
  const fn = script.runInThisContext();
  m = { exports: {}, filename: path, id: path, script };
  loaded.set(file, m);
  fn(m.exports, own, m, path, dir);
  return m.exports;
}
const out = process.env.KEYBRIDGE_CODE_CACHE_OUT;
if (out) process.once('exit', () => { for (const [file, m] of loaded) if (m.script) writeFileSync(join(out, file + '.cache'), m.script.createCachedData()); });
const list = process.env.KEYBRIDGE_CODE_CACHE_LIST;
if (list) process.once('exit', () => require('node:fs').appendFileSync(list, [...loaded.keys()].map((f) => f + '\\n').join('')));
${pack ? `// the age plugin protocol (a lone --age-plugin=NAME, as src/plugins/kit/main.ts reads it): the files of that state machine from its pack
const mode = process.argv.length === 3 && process.argv[2].startsWith('--age-plugin=') ? process.argv[2].slice(13) : '';
if (${JSON.stringify(PACK_MODES)}.includes(mode)) load((pack = '${packFileName("' + mode + '")}'));
` : ''}module.exports = load(basename(entry));
`;
/**
 * A plugin's pack for one protocol mode (cachedLoader's `pack`): the files that mode loads,
 * bundled again from their ES module code into one CommonJS file with one scope: the modules'
 * code as it is, hoisted side by side with no wrapper (they run, in import order, when the pack
 * loads: the mode runs them all), their imports of each other direct references instead of the
 * getters through which a CommonJS file reads another's exports, and one set of esbuild's helpers
 * instead of one in each file. A file that loads a package when it runs (pcsclite's addon), and
 * any file importing it, keeps running only when first required, as its own file would. The
 * pack's one export, file(name), returns a file's exports as the file's own (the loader's
 * require() of a file of the pack), undefined for a file not in it; a file outside the pack is
 * required through the loader as usual, import() of any file included. The first line names the
 * files.
 */
async function buildPack(name, mode, files) {
  const lib = join(root, 'dist', 'lib', name);
  const modules = pluginModules.get(name);
  const meta = pluginMeta.get(name);
  const inPack = new Set(files);
  const staticImports = (f) => meta.get(f).imports.filter((i) => i.kind === 'import-statement').map((i) => basename(i.path));
  // Files that load a package (an addon: pcsclite) when they run, and the files that import
  // them, run when first required, as before; every other file of the pack runs when the pack
  // loads, in import order (the mode loads them all).
  const loadsPackage = (f) => meta.get(f).imports.some((i) => i.external && !i.path.startsWith('./') && !isBuiltin(i.path));
  const lazy = new Set(files.filter(loadsPackage));
  for (let grew = true; grew; ) {
    grew = false;
    for (const f of files) if (!lazy.has(f) && staticImports(f).some((d) => lazy.has(d))) grew = lazy.add(f);
  }
  // each file that runs at load is imported by its export names (esbuild then joins those
  // modules into one scope, none wrapped), handed out as an object of getters made when the file
  // is asked for; the entry comes last, so that every other module has run when its code starts
  const local = (i, k) => `f${i}_${k.replace(/\W/g, '_')}`;
  const parts = files.map((f, i) => {
    if (lazy.has(f)) return `const file${i} = () => require(${JSON.stringify(`./${f}`)});\n`;
    const names = meta.get(f).exports;
    const imports = names.length ? `import { ${names.map((k) => `${JSON.stringify(k)} as ${local(i, k)}`).join(', ')} } from ${JSON.stringify(`./${f}`)};\n` : `import ${JSON.stringify(`./${f}`)};\n`;
    return imports + `const file${i} = () => ({ __esModule: true, ${names.map((k) => `get ${JSON.stringify(k)}() { return ${local(i, k)}; }`).join(', ')} });\n`;
  });
  const entry =
    [...parts.slice(1), parts[0]].join('') +
    // one export (each export of a CommonJS bundle costs a getter defined twice at load)
    `const files = { ${files.map((f, i) => `${JSON.stringify(f)}: file${i}`).join(', ')} };\nexport const file = (name) => (Object.hasOwn(files, name) ? files[name]() : undefined);\n`;
  const r = await build({
    stdin: { contents: entry, loader: 'js', resolveDir: lib },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
    supported: { 'dynamic-import': false },
    plugins: [
      {
        name: 'plugin-pack',
        setup(b) {
          // a static import of a file of the pack is that module, in the same scope (the entry's
          // require() of a file run when first required too); a dynamic one, and everything else
          // (node-hid, the addons, node's built-ins, the other files beside them), stays what it
          // was in the files: the loader's require()
          b.onResolve({ filter: /.*/ }, (args) => ((args.kind === 'import-statement' || (args.kind === 'require-call' && args.importer === '<stdin>')) && args.path.startsWith('./') && inPack.has(args.path.slice(2)) ? { path: `${args.path.slice(2)}.module`, namespace: 'plugin-file' } : { path: args.path, external: true }));
          // (named X.module: ES modules by their syntax, with the interop of the CommonJS files they were, which .mjs would change)
          b.onLoad({ filter: /.*/, namespace: 'plugin-file' }, (args) => ({ contents: modules.get(args.path.replace(/\.module$/, '')), loader: 'js', resolveDir: lib }));
        },
      },
    ],
  });
  const code = r.outputFiles[0].text;
  const head = `// ${name} ${mode}: the files of this directory that this state machine of the age plugin protocol loads, as one bundle (see scripts/build.mjs): ${JSON.stringify(files)}\n`;
  writeFileSync(join(lib, packFileName(mode)), asciiOnly(head + (code.includes('__kbImportMeta') ? `${cjsBanner}\n` : '') + code));
}
/** A plugin's executable, dist/<name>.cjs: its code is in lib/<name>/ (the entry <name>.cjs and its chunks), run by cachedLoader. */
const pluginLoader = (name, pack = false) => cachedLoader(name, `./lib/${name}/${name}.cjs`, pack);
/**
 * Libraries of @noble that the plugins' start paths import but use only in some modes or only
 * after the first card access (ML-KEM and SHA-3 for post-quantum keys, the P-256 and Curve25519
 * curves for X25519 identities and the CTAP2 PIN protocol, AES, and the hashes and the cipher an
 * unwrap runs once the card answered): each is its own file, lib/<name>/lazy-<lib>.cjs (bundled
 * with what it imports), read and run on first use. The plugin's code imports it through a stub
 * whose exports forward to the library, required on first use; the stub's export names are the
 * library's, read here. Bundled into the plugin's chunks instead, a library is read and compiled
 * at every start even when its module code never runs (hundreds of kilobytes in the FIDO2
 * plugins). A library imported by a library is bundled into that library's file.
 */
const PLUGIN_LAZY = ['@noble/post-quantum/ml-kem.js', '@noble/hashes/sha3.js', '@noble/curves/nist.js', '@noble/curves/ed25519.js', '@noble/ciphers/aes.js', '@noble/ciphers/chacha.js', '@noble/hashes/sha2.js', '@noble/hashes/hkdf.js', '@noble/hashes/hmac.js'];
const lazyFile = (lib) => `lazy-${lib.replace(/^@noble\//, '').replace(/\.js$/, '').replace(/[^\w-]+/g, '-')}.cjs`;
const lazyStub = async (lib) => {
  const lines = [`let m;\nconst real = () => (m ??= require(${JSON.stringify(`./${lazyFile(lib)}`)}));`];
  lines.push('const forward = (target, k) => new Proxy(target, { get: (_, p) => Reflect.get(real()[k], p), has: (_, p) => p in real()[k], apply: (_, self, a) => Reflect.apply(real()[k], self, a), construct: (_, a) => Reflect.construct(real()[k], a) });');
  for (const [k, v] of Object.entries(await import(lib))) {
    if (typeof v === 'function') lines.push(`export const ${k} = forward(function () {}, ${JSON.stringify(k)});`);
    else if (typeof v === 'object' && v !== null) lines.push(`export const ${k} = forward({}, ${JSON.stringify(k)});`);
    else lines.push(`export const ${k} = ${JSON.stringify(v)};`);
  }
  return lines.join('\n');
};
const pluginLazyLibraries = {
  name: 'plugin-lazy-libraries',
  setup(b) {
    b.onResolve({ filter: /^@noble\// }, (args) => (PLUGIN_LAZY.includes(args.path) && args.kind === 'import-statement' && !args.importer.includes('node_modules') ? { path: args.path, namespace: 'plugin-lazy' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'plugin-lazy' }, async (args) => ({ contents: await lazyStub(args.path), loader: 'js', resolveDir: root }));
    b.onResolve({ filter: /^\.\/lazy-[\w-]+\.cjs$/, namespace: 'plugin-lazy' }, (args) => ({ path: args.path, external: true }));
  },
};
/** Each plugin's files as esbuild's ES module output (before the CommonJS step), by file name: what its packs are bundled from. */
const pluginModules = new Map();
/** Each plugin's files' export names and imports (esbuild's metafile), by file name. */
const pluginMeta = new Map();
/**
 * A plugin's code: esbuild's ES module output split at dynamic imports (chunks for what several
 * parts share), each file then made CommonJS — its imports require() the other files (through
 * the loader, with their caches), import() becomes a require() on first use (code run by node:vm
 * has no module loader for import()).
 */
async function buildPlugin(file) {
  const name = basename(file, '.ts');
  const outdir = join(root, 'dist', 'lib', name);
  const r = await build({
    ...common,
    define: { ...define, 'import.meta.url': IMPORT_META_URL },
    entryPoints: [join(binDir, file)],
    outdir,
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    outExtension: { '.js': '.cjs' },
    splitting: true,
    write: false,
    plugins: [lazyNodeModule, pluginLazyLibraries, pcscliteByPath, nodeHidByPath],
    metafile: true,
  });
  pluginMeta.set(name, new Map(Object.entries(r.metafile.outputs).map(([path, o]) => [basename(path), o])));
  pluginModules.set(name, new Map(r.outputFiles.map((f) => [basename(f.path), f.text])));
  mkdirSync(outdir, { recursive: true });
  const lazyUsed = new Set();
  for (const f of r.outputFiles) {
    const out = await transform(f.text, { format: 'cjs', target: 'node20', supported: { 'dynamic-import': false }, loader: 'js', legalComments: 'none', banner: f.text.includes('__kbImportMeta') ? cjsBanner : '' });
    // a lazy library's file as a plain require() of the loader (esbuild's ES module output calls it through its __require shim)
    writeFileSync(f.path, out.code.replace(/\(0, [\w$]+\.__require\)\(("\.\/lazy-[\w-]+\.cjs")\)/g, 'require($1)'));
    for (const lib of PLUGIN_LAZY) if (out.code.includes(`"./${lazyFile(lib)}"`)) lazyUsed.add(lib);
  }
  // the files of the libraries this plugin imports
  await Promise.all([...lazyUsed].map((lib) => build({ ...common, format: 'cjs', absWorkingDir: root, entryPoints: [lib], outfile: join(outdir, lazyFile(lib)) })));
  writeFileSync(cjsPath(file), pluginLoader(name), { mode: 0o755 });
  chmodSync(cjsPath(file), 0o755);
  writeFileSync(binPath(file), `#!/usr/bin/env node\n// The command is ${name}.cjs (CommonJS: it starts faster); this name keeps working.\nimport './${name}.cjs';\n`, { mode: 0o755 });
}
/**
 * Libraries the validate command needs only for some repositories — yaml for the layouts the
 * line readers leave to a full parse, re2js for path_regex patterns the simple matcher leaves to
 * RE2 — are imported through stubs whose functions require() the library on first call: esbuild
 * then bundles each as a lazily evaluated module, not compiled or run when the command loads. A
 * name the sources import that the stub lacks fails the build ("No matching export").
 */
const LAZY_LIBRARIES = {
  yaml: ['parse', 'parseDocument', 'isAlias', 'isMap', 'isScalar', 'isSeq', 'visit'].map((f) => `export function ${f}(...a) { return require('yaml').${f}(...a); }`).join('\n'),
  re2js: "export const RE2JS = { compile: (...a) => require('re2js').RE2JS.compile(...a) };",
};
const lazyLibraries = {
  name: 'lazy-libraries',
  setup(b) {
    b.onResolve({ filter: /^(yaml|re2js)$/ }, (args) => (args.kind === 'import-statement' && args.namespace !== 'lazy-library' ? { path: args.path, namespace: 'lazy-library' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy-library' }, (args) => ({ contents: LAZY_LIBRARIES[args.path], loader: 'js', resolveDir: root }));
  },
};
/**
 * esbuild options for a bundle run by cachedLoader: written to dist/lib/<file>, no shebang (the
 * loader is the executable), no import() left (node:vm gives the code no module loader for it),
 * and its own directory for the paths of keybridge's subcommands (import.meta.url as in every
 * CommonJS bundle, cjsBanner: made when first read).
 */
const cachedBundle = (file, name) => ({
  outfile: join(root, 'dist', 'lib', file),
  banner: { js: cjsBanner },
  supported: { 'dynamic-import': false },
  plugins: [lazyNodeModule, subcommands(join(root, 'dist', 'lib')), splitModules(name), pcscliteByPath],
});
const subcommandBundle = (name) => join(root, 'dist', 'commands', `${name}.${HEAVY.includes(name) ? 'mjs' : 'cjs'}`);

await Promise.all([
  // One build for the shared-chunk executables: each starts by loading only its own small entry
  // chunk; code behind dynamic import() (card access, X.509, subcommands) loads on use.
  shared.length && build({
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
    build({
      ...cjs,
      banner: { js: '#!/usr/bin/env node\n' + cjsBanner },
      entryPoints: [join(binDir, file)],
      outfile: cjsPath(file),
      plugins: [lazyNodeModule, subcommands(join(root, 'dist')), pcscliteByPath],
      ...(CACHED_BINS.includes(file) ? cachedBundle(`${basename(file, '.ts')}.cjs`) : {}),
    }).then(() => {
      if (CACHED_BINS.includes(file)) writeFileSync(cjsPath(file), cachedLoader(basename(file, '.ts'), `./lib/${basename(file, '.ts')}.cjs`));
      chmodSync(cjsPath(file), 0o755);
      writeFileSync(binPath(file), `#!/usr/bin/env node\n// The command is ${basename(cjsPath(file))} (CommonJS: it starts faster); this name keeps working.\nimport './${basename(cjsPath(file))}';\n`, { mode: 0o755 });
    }),
  ),
  ...PLUGINS.map(buildPlugin),
  ...COMMANDS.map((name) =>
    build({
      ...(HEAVY.includes(name) ? { ...common, banner: { js: banner } } : cjs),
      entryPoints: [join(root, 'src', 'cli', `${name}.ts`)],
      outfile: subcommandBundle(name),
      plugins: [lazyNodeModule, subcommands(join(root, 'dist', 'commands')), pcscliteByPath, ...(name === 'validate' ? [lazyLibraries] : [])],
      ...(CACHED_COMMANDS.includes(name) ? cachedBundle(`keybridge-${name}.cjs`, name) : {}),
    }).then(() => {
      if (CACHED_COMMANDS.includes(name)) writeFileSync(subcommandBundle(name), cachedLoader(`keybridge ${name}`, `../lib/keybridge-${name}.cjs`));
    }),
  ),
  ...Object.values(SPLIT).flatMap((modules) => Object.entries(modules).map(([entry, file]) => build({ ...cjs, entryPoints: [entry], outfile: join(root, 'dist', 'lib', file) }))),
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

// dist's JavaScript in ASCII only: V8 holds a source with any other character (esbuild escapes
// them in strings but keeps the odd comment, such as one before a class field) as two bytes per
// character, decoded from UTF-8 and scanned as such at every start. An escape is the same
// character in a string, a template, a regular expression or an identifier, and changes nothing
// in a comment. Before the code caches: V8 takes a cache only for the source it was made from.
const asciiOnly = (text) => text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const asciiFiles = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) asciiFiles(path);
    else if (e.isFile() && /\.[cm]?js$/.test(e.name)) {
      const text = readFileSync(path, 'utf8');
      const ascii = asciiOnly(text);
      if (ascii !== text) writeFileSync(path, ascii);
    }
  }
};
asciiFiles(join(root, 'dist'));

// The plugins' code caches, made by running each one as age does (scripts/codecache.ts).
// A first run also lists the files each mode loads: what the protocol modes (identity-v1,
// recipient-v1) load goes into the plugin's pack (cachedLoader), and a second run makes the
// packs' caches.
await build({ ...common, entryPoints: [join(root, 'scripts', 'codecache.ts')], outfile: join(root, 'build', 'codecache.mjs'), banner: { js: banner } });
const loadLists = mkdtempSync(join(tmpdir(), 'kb-build-lists-'));
try {
  execFileSync(process.execPath, [join(root, 'build', 'codecache.mjs'), join(root, 'dist'), loadLists], { stdio: 'inherit' });
  for (const file of PLUGINS) {
    const name = basename(file, '.ts');
    for (const mode of PACK_MODES) {
      const packed = [...new Set(readFileSync(join(loadLists, `${name}.${mode}`), 'utf8').split('\n').filter(Boolean))];
      await buildPack(name, mode, packed);
    }
    writeFileSync(cjsPath(file), pluginLoader(name, true), { mode: 0o755 });
  }
} finally {
  rmSync(loadLists, { recursive: true, force: true });
}
execFileSync(process.execPath, [join(root, 'build', 'codecache.mjs'), join(root, 'dist')], { stdio: 'inherit' });

// The one-shot commands' code caches, made by running each as people do (scripts/commandCache.ts).
await build({ ...common, entryPoints: [join(root, 'scripts', 'commandCache.ts')], outfile: join(root, 'build', 'commandcache.mjs'), banner: { js: banner } });
execFileSync(process.execPath, [join(root, 'build', 'commandcache.mjs'), join(root, 'dist')], { stdio: 'inherit' });

// dist/ holds exactly what this build wrote (npm pack ships all of it): remove leftovers such as
// the bundle of an executable that no longer exists.
const wanted = new Set([
  'index.mjs', 'testing.mjs', 'chunks', 'man', 'completions', 'commands', 'workers', 'lib',
  ...entries.map((file) => basename(file, '.ts') + '.mjs'),
  ...[...single, ...PLUGINS].map((file) => basename(file, '.ts') + '.cjs'),
]);
for (const name of readdirSync(join(root, 'dist'))) {
  if (!wanted.has(name)) rmSync(join(root, 'dist', name), { recursive: true, force: true });
}
