import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIST, run } from '../helpers/run.ts';
import { expectCodeCacheFallbacks } from '../helpers/codeCache.ts';

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
    const help = async (exe: string) => {
      const r = await run(process.execPath, [exe, '--help']);
      return { code: r.code, out: r.stdout + r.stderr };
    };
    const expected = await help(join(DIST, `${name}.cjs`));
    expect(expected.out).toMatch(/Usage/);
    await expectCodeCacheFallbacks(join(DIST, 'lib', `${name}.cjs`), expected, (cache, tag) => help(copy(name, cache, `${name}-${tag}`)));
  });
});
