/**
 * The Nix files, as far as this machine can check them: Debian's nix-bin is installed, nixpkgs is
 * not, so nothing is built here. Every .nix file must parse; what evaluates with builtins alone
 * (the lock-file rewrite behind `importNpmLock`) is evaluated and compared with what npm itself
 * fetched; the flake check's script runs against the bundles in dist/.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/run.ts';
import { findTool, itWith, REQUIRE_E2E } from '../helpers/tools.ts';
import { npmCacheIndex } from '../helpers/npmCache.ts';

const nixInstantiate = findTool('nix-instantiate');
const jq = findTool('jq');
const withNix = itWith([nixInstantiate]);

function nixFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', '.git', 'build'].includes(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...nixFiles(p));
    else if (e.isFile() && e.name.endsWith('.nix')) out.push(p);
  }
  return out;
}

function nixEval(expr: string): unknown {
  const json = execFileSync('nix-instantiate', ['--eval', '--strict', '--json', '-E', expr], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, NIX_PATH: '' },
  });
  return JSON.parse(json);
}

interface LockPackage {
  version?: string;
  integrity?: string;
  resolved?: string;
  link?: boolean;
  inBundle?: boolean;
  name?: string;
}
type Lock = { lockfileVersion: number; packages: Record<string, LockPackage> };

describe('Nix files', () => {
  const files = nixFiles(ROOT);

  it('there are the expected ones', () => {
    expect(files.map((f) => relative(ROOT, f)).sort()).toEqual(
      expect.arrayContaining(['flake.nix', 'package.nix', 'nix/nixos.nix', 'nix/home-manager.nix', 'nix/npm-lock.nix']),
    );
  });

  withNix('every .nix file parses (nix-instantiate --parse)', () => {
    for (const f of files) {
      try {
        execFileSync('nix-instantiate', ['--parse', f], { stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (e) {
        throw new Error(`${relative(ROOT, f)} does not parse: ${String((e as { stderr?: Buffer }).stderr ?? e)}`);
      }
    }
  });

  withNix('the modules take `options` (they wire sops-nix/agenix only when those are imported)', () => {
    for (const m of ['nix/nixos.nix', 'nix/home-manager.nix']) {
      const args = nixEval(`builtins.functionArgs (import ./${m} { self = null; })`) as Record<string, boolean>;
      expect(Object.keys(args).sort(), m).toEqual(['config', 'lib', 'options', 'pkgs']);
    }
  });
});

describe('nix/npm-lock.nix: package-lock.json with the URLs importNpmLock fetches', () => {
  withNix('a lock without registry URLs gets exactly the ones package-lock.json records, and nothing else changes', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lock;
    // The same lock as npm writes it with omit-lockfile-registry-resolved=true.
    const stripped: Lock = { ...lock, packages: Object.fromEntries(Object.entries(lock.packages).map(([k, p]) => [k, Object.fromEntries(Object.entries(p).filter(([f]) => f !== 'resolved'))])) };
    const dir = mkdtempSync(join(tmpdir(), 'keybridge-lock-'));
    try {
      writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(stripped));
      const rewritten = nixEval(`import ./nix/npm-lock.nix { lockFile = ${join(dir, 'package-lock.json')}; }`) as Lock;
      expect(rewritten).toEqual(lock);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(nixEval('import ./nix/npm-lock.nix { }')).toEqual(lock);
  });

  withNix('each URL is the one npm downloaded that package from, with the same integrity', () => {
    const rewritten = nixEval('import ./nix/npm-lock.nix { }') as Lock;
    const installed = JSON.parse(readFileSync(join(ROOT, 'node_modules', '.package-lock.json'), 'utf8')) as Lock;
    const cache = npmCacheIndex().byUrl;
    const paths = Object.keys(installed.packages).filter((p) => rewritten.packages[p]?.resolved && cache.has(rewritten.packages[p]!.resolved!));
    if (paths.length === 0) {
      const why = "npm's cache holds none of the installed packages (npm ci ran elsewhere)";
      if (REQUIRE_E2E) throw new Error(`KEYBRIDGE_REQUIRE_E2E=1 but ${why}`);
      process.stderr.write(`SKIP: ${why}\n`);
      return;
    }
    const inCache = Object.keys(installed.packages).filter((p) => rewritten.packages[p]?.resolved);
    expect(paths.length, 'installed packages whose URL npm fetched').toBe(inCache.length);
    for (const p of paths) expect(cache.get(rewritten.packages[p]!.resolved!), p).toBe(rewritten.packages[p]!.integrity);
  });
});

describe('flake check validate-example', () => {
  itWith([jq])('passes against the bundled keybridge: exit 1 and exactly the planted faults', () => {
    const faults = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/secrets-repo-faults.json'), 'utf8')) as unknown[];
    const out = execFileSync('bash', [join(ROOT, 'nix/checks/validate-example.sh'), join(ROOT, 'dist/keybridge.mjs'), ROOT], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toContain(`validate-example: ${faults.length} planted faults reported, nothing else`);
  });
});
