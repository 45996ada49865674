/**
 * What `npm pack` ships, and what installing that tarball does with npm 11's allowScripts
 * advisory. The tarball carries sources and the bundles (no prebuilt native code), and installing
 * it builds the native parts on the user's machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/run.ts';
import { npmCacheIndex } from './helpers/npmCache.ts';
import { REQUIRE_E2E } from './helpers/tools.ts';

interface PackageJson {
  name: string;
  version: string;
  bin: Record<string, string>;
  main: string;
  man?: string[];
  dependencies: Record<string, string>;
  files: string[];
  exports?: Record<string, string | { default: string }>;
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;

function packedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
}

/** dist files reachable from the entry points through static and dynamic imports of chunks. */
function reachableDist(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...entries];
  while (todo.length) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(join(ROOT, file), 'utf8');
    const dir = file.slice(0, file.lastIndexOf('/'));
    // imports, requires of CommonJS bundles (keybridge's subcommands: './commands/….cjs'), and
    // files found next to the bundle at run time (worker threads: './workers/….mjs')
    for (const m of text.matchAll(/(?:from\s*|import\s*\(\s*|import\s*|require\s*\(\s*|\[\s*|,\s*)["'](\.{1,2}\/[^"']+\.[cm]js)["']/g)) {
      const parts = `${dir}/${m[1]}`.split('/');
      const norm: string[] = [];
      for (const p of parts) {
        if (p === '.' || p === '') continue;
        if (p === '..') norm.pop();
        else norm.push(p);
      }
      const target = norm.join('/');
      if (existsSync(join(ROOT, target))) todo.push(target);
    }
    // a plugin's loader takes the files of each protocol mode it names from that mode's pack beside its entry (scripts/build.mjs cachedLoader)
    const pack = /const entry = join\(__dirname, '\.\/(lib\/[^']+)\/[^/']+\.cjs'\);[\s\S]*\nif \((\[[^\]]*\])\.includes\(mode\)\) load\(\(pack = '([\w.-]+)' \+ mode \+ '([\w.-]+\.cjs)'\)\)/.exec(text);
    if (pack) for (const mode of JSON.parse(pack[2]!) as string[]) todo.push(`${dir}/${pack[1]}/${pack[3]}${mode}${pack[4]}`);
    // dist/<name>.cjs keeps its former name dist/<name>.mjs as a two-line shim that loads it.
    if (/^dist\/[^/]+\.cjs$/.test(file)) todo.push(file.replace(/\.cjs$/, '.mjs'));
    // the files in dist/lib/ (a plugin's in dist/lib/<name>/) are read with the V8 code cache beside each, made by the build
    if (/^dist\/lib\/(?:[^/]+\/)?[^/]+\.cjs$/.test(file) && existsSync(join(ROOT, `${file}.cache`))) todo.push(`${file}.cache`);
  }
  return seen;
}

describe('npm pack', () => {
  const files = packedFiles();

  it('ships no compiled native code and no build directories', () => {
    expect(files.filter((f) => /\.(so|o|node|a|dylib|dll)$/.test(f) || /(^|\/)build\//.test(f))).toEqual([]);
    // the sources the install script compiles are there
    expect(files).toEqual(expect.arrayContaining(['native/Makefile', 'native/nodelay.c', 'native/binding.gyp', 'native/agent.c', 'native/bignum.c', 'native/openssl.c', 'native/napi_args.h']));
  });

  it('ships sources and bundles, not tests, benchmarks or development scripts', () => {
    const tops = [...new Set(files.map((f) => (f.includes('/') ? f.slice(0, f.indexOf('/')) : f)))].sort();
    expect(tops).toEqual(['README.md', 'dist', 'native', 'package.json', 'scripts', 'src', 'udev']);
    expect(files.filter((f) => f.startsWith('scripts/')).sort()).toEqual(['scripts/build-native.mjs', 'scripts/pty-run.py']);
  });

  it('every bin, main and man entry is in the tarball', () => {
    for (const f of [...Object.values(pkg.bin), pkg.main, ...(pkg.man ?? [])]) expect(files, f).toContain(f.replace(/^\.\//, ''));
  });

  it('dist holds only what the entry points load (no stale bundles or chunks)', () => {
    const exported = Object.values(pkg.exports ?? {}).flatMap((e) => (typeof e === 'string' ? [e] : [e.default]));
    const entries = [...Object.values(pkg.bin), pkg.main, ...exported.filter((f) => f.startsWith('./dist/')).map((f) => f.slice(2))];
    const reachable = reachableDist(entries);
    const docs = (f: string) => f.startsWith('dist/man/') || f.startsWith('dist/completions/');
    expect(files.filter((f) => f.startsWith('dist/') && !docs(f) && !reachable.has(f))).toEqual([]);
  });
});

describe('install scripts of this repository', () => {
  it('the lock records every registry URL (npm identifies packages for allowScripts by it), and .npmrc keeps it so', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string; link?: boolean; inBundle?: boolean }> };
    const without = Object.entries(lock.packages).filter(([path, p]) => path && !p.link && !p.inBundle && !p.resolved?.startsWith('https://registry.npmjs.org/'));
    expect(without.map(([path]) => path)).toEqual([]);
    expect(readFileSync(join(ROOT, '.npmrc'), 'utf8')).toMatch(/^omit-lockfile-registry-resolved=false$/m);
  });

  it('allowScripts decides every dependency install script (no advisory on npm ci)', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
    const allow = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> }).allowScripts;
    const names = Object.entries(lock.packages)
      .filter(([path, p]) => path && p.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(names.filter((n) => !(n in allow))).toEqual([]);
  });
});

describe('installing the tarball (npm ci, offline, from npm’s cache)', () => {
  const work = mkdtempSync(join(tmpdir(), 'keybridge-pack-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('builds the native parts from source, and npm names exactly the packages README says to approve', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; integrity?: string; resolved?: string }> };
    const cache = npmCacheIndex().byIntegrity;
    const packages: Record<string, unknown> = {};
    const missing: string[] = [];
    for (const [path, p] of Object.entries(lock.packages)) {
      if (!path || p.dev) continue;
      const resolved = p.resolved ?? (p.integrity ? cache.get(p.integrity) : undefined);
      if (!resolved) missing.push(path);
      packages[path] = { ...p, resolved };
    }
    if (missing.length) {
      const why = `npm's cache lacks ${missing.length} runtime dependencies (e.g. ${missing[0]}), so an offline install cannot run`;
      if (REQUIRE_E2E) throw new Error(`KEYBRIDGE_REQUIRE_E2E=1 but ${why}`);
      process.stderr.write(`SKIP: ${why}\n`);
      return;
    }

    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, stdio: 'ignore' });
    const tgz = `${pkg.name}-${pkg.version}.tgz`;
    const app = join(work, 'app');
    const spec = `file:../${tgz}`;
    const self = lock.packages['']! as Record<string, unknown>;
    packages['node_modules/keybridge'] = { version: pkg.version, resolved: spec, hasInstallScript: true, license: self.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: self.engines };
    packages[''] = { name: 'app', version: '1.0.0', dependencies: { keybridge: spec } };
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, dependencies: { keybridge: spec } }, null, 2));
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2));

    const install = () => {
      const r = spawnSync('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: app, encoding: 'utf8', timeout: 240_000 });
      expect(r.status, r.stderr).toBe(0);
      return r.stderr;
    };
    const first = install();
    // the install scripts ran: pcsclite compiled, the rig's preload compiled from native/
    expect(existsSync(join(app, 'node_modules/pcsclite/build/Release/pcsclite.node'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/keybridge/native/libnodelay.so'))).toBe(true);
    // and the three addons (the agent's; ssh-to-age's batch conversion; the start paths' OpenSSL calls), each its own target
    for (const addon of ['keybridge_native', 'keybridge_bignum', 'keybridge_openssl']) {
      expect(existsSync(join(app, `node_modules/keybridge/native/build/Release/${addon}.node`)), addon).toBe(true);
    }
    const version = execFileSync(join(app, 'node_modules/.bin/keybridge'), ['version'], { encoding: 'utf8' });
    expect(version).toBe(`keybridge ${pkg.version}\n`);

    const npmVersion = execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim().split('.').map(Number);
    if (npmVersion[0]! < 11 || (npmVersion[0] === 11 && npmVersion[1]! < 16)) {
      expect(first).not.toMatch(/allowScripts/);
      return;
    }
    // npm ≥ 11.16 advises about every dependency install script not approved yet.
    const listed = [...first.matchAll(/^npm warn [\w-]+ {3}(\S+)@[\d.]+ \(/gm)].map((m) => m[1]).sort();
    expect(first).toMatch(/install scripts not yet covered by allowScripts/);
    expect(listed).toEqual(['keybridge', 'node-hid', 'pcsclite']);

    // README's approval command silences it, and the scripts still run.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const approve = 'npm install-scripts approve keybridge node-hid pcsclite';
    expect(readme).toContain(approve);
    execFileSync('sh', ['-c', approve], { cwd: app, stdio: 'ignore' });
    rmSync(join(app, 'node_modules'), { recursive: true, force: true });
    const second = install();
    expect(second).not.toMatch(/allowScripts|install-scripts/);
    expect(existsSync(join(app, 'node_modules/pcsclite/build/Release/pcsclite.node'))).toBe(true);
  }, 600_000);
});
