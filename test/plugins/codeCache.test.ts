import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIST, run } from '../helpers/run.ts';

// The plugins' executables run their bundle with the V8 code cache the build made (scripts/build.mjs).
const NAMES = ['age-plugin-yubikey', 'age-plugin-picohsm', 'age-plugin-fido2-hmac', 'age-plugin-fido2prf'];
const dir = mkdtempSync(join(tmpdir(), 'kb-codecache-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of a plugin's loader and bundle, with `cache` as its code cache (none when undefined). */
function copy(name: string, cache: Uint8Array | undefined, tag: string): string {
  const d = join(dir, tag);
  mkdirSync(join(d, 'lib'), { recursive: true });
  copyFileSync(join(DIST, `${name}.cjs`), join(d, `${name}.cjs`));
  copyFileSync(join(DIST, 'lib', `${name}.cjs`), join(d, 'lib', `${name}.cjs`));
  if (cache) writeFileSync(join(d, 'lib', `${name}.cjs.cache`), cache);
  return join(d, `${name}.cjs`);
}

describe('plugin code cache', () => {
  it.each(NAMES)('%s: the cache is accepted by this node, and a rejected or missing cache gives the same answer', async (name) => {
    const cache = readFileSync(join(DIST, 'lib', `${name}.cjs.cache`));
    const help = async (exe: string) => {
      const r = await run(process.execPath, [exe, '--help']);
      return { code: r.code, out: r.stdout + r.stderr };
    };
    const expected = await help(join(DIST, `${name}.cjs`));
    expect(expected.out).toMatch(/Usage/);
    const damaged = Uint8Array.from(cache);
    damaged.fill(0x5a, 16, 64);
    expect(await help(copy(name, damaged, `${name}-damaged`))).toEqual(expected);
    expect(await help(copy(name, new Uint8Array(3), `${name}-short`))).toEqual(expected);
    expect(await help(copy(name, undefined, `${name}-none`))).toEqual(expected);
    // V8 takes the cache the build made (a cache it rejects would be dead weight in the package)
    const { Script } = await import('node:vm');
    const { wrap } = await import('node:module');
    const file = join(DIST, 'lib', `${name}.cjs`);
    expect(new Script(wrap(readFileSync(file, 'utf8')), { filename: file, cachedData: cache }).cachedDataRejected).toBe(false);
  });
});
