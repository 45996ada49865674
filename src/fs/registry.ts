/**
 * The registries of token families (virtual tokens, plugin programs, demo steps) have no list to
 * maintain: from the sources, a registry is the sorted subdirectories of its directory that hold
 * its file (`src/sim/X/token.ts`, `src/plugins/X/cli.ts`, `src/plugins/X/demo.ts`). In the
 * bundles there is no source tree: scripts/build.mjs finds the same names the same way and defines
 * them as a constant (`__KEYBRIDGE_…__`) that the registry passes as `built`, and esbuild bundles
 * every `./X/file.ts` the registry's template import can reach.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The family names: `built` in a bundle, else the subdirectories of `dir` (but `kit`, the shared code) that hold `file`, sorted. */
export function familyNames(built: string[] | undefined, dir: URL, file: string): string[] {
  if (built) return built;
  const path = fileURLToPath(dir);
  return readdirSync(path, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'kit' && existsSync(join(path, d.name, file)))
    .map((d) => d.name)
    .sort();
}
