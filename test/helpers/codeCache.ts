/**
 * What every bundle run with a V8 code cache (scripts/build.mjs, cachedLoader) must show: the
 * cache the build made is accepted by this node, and with the cache damaged, truncated or
 * missing the command gives the same answer.
 */
import { readFileSync } from 'node:fs';
import { wrap } from 'node:module';
import { Script } from 'node:vm';
import { expect } from 'vitest';

/**
 * `bundle` is the code-cached file (its cache is `bundle`.cache); `runWith(cache, tag)` runs the
 * command from a copy whose bundle has `cache` as its code cache (none when undefined).
 */
export async function expectCodeCacheFallbacks<T>(bundle: string, expected: T, runWith: (cache: Uint8Array | undefined, tag: string) => Promise<T>): Promise<void> {
  const cache = readFileSync(`${bundle}.cache`);
  const damaged = Uint8Array.from(cache);
  damaged.fill(0x5a, 16, 64);
  expect(await runWith(damaged, 'damaged')).toEqual(expected);
  expect(await runWith(new Uint8Array(3), 'short')).toEqual(expected);
  expect(await runWith(undefined, 'none')).toEqual(expected);
  // V8 takes the cache the build made (a cache it rejects would be dead weight in the package)
  expect(new Script(wrap(readFileSync(bundle, 'utf8')), { filename: bundle, cachedData: cache }).cachedDataRejected).toBe(false);
}
