/**
 * External programs that end-to-end tests need (age, ssh-keygen, …). A missing program skips
 * the test loudly; with KEYBRIDGE_REQUIRE_E2E=1 (CI) it fails the run instead.
 */
import { execFileSync } from 'node:child_process';
import { it } from 'vitest';

export const REQUIRE_E2E = process.env.KEYBRIDGE_REQUIRE_E2E === '1';

export interface Tool {
  readonly name: string;
  readonly path: string | undefined;
  readonly missing: string | undefined;
}

export function findTool(name: string): Tool {
  try {
    const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    if (path) return { name, path, missing: undefined };
  } catch {
    // not found
  }
  return { name, path: undefined, missing: `${name} is not installed (run scripts/setup.sh)` };
}

/**
 * `it` for a test that needs the given tools: skipped with the reason when one is missing, or
 * failed when KEYBRIDGE_REQUIRE_E2E=1.
 */
export function itWith(tools: readonly Tool[]): typeof it {
  const missing = tools.find((t) => t.missing);
  if (!missing) return it;
  if (REQUIRE_E2E) {
    return ((name: string) =>
      it(name, () => {
        throw new Error(`KEYBRIDGE_REQUIRE_E2E=1 but ${missing.missing}`);
      })) as unknown as typeof it;
  }
  process.stderr.write(`SKIP: ${missing.missing}\n`);
  return ((name: string, fn?: () => unknown) => it.skip(`${name} [skipped: ${missing.missing}]`, fn)) as unknown as typeof it;
}
