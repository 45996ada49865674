import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIST, run } from '../helpers/run.ts';
import { expectCodeCacheFallbacks } from '../helpers/codeCache.ts';

// ssh-to-age and the one-shot keybridge subcommands run their bundle (dist/lib/) with the V8
// code cache the build made (scripts/build.mjs, scripts/commandCache.ts).
const FIX = new URL('../fixtures/ssh-to-age/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'kb-commandcache-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const exportFile = join(dir, 'bitwarden.json');
writeFileSync(exportFile, JSON.stringify({ encrypted: false, items: [{ id: 'a', name: 'cache-test', type: 5, sshKey: { publicKey: readFileSync(join(FIX, 'id_ed25519.pub'), 'utf8').trim(), privateKey: readFileSync(join(FIX, 'id_ed25519'), 'utf8') } }] }));

interface Cached {
  name: string;
  bundle: string;
  /** The files to copy: the executable first, then the loaders and the bundle (paths under dist/). */
  files: string[];
  args: string[];
  input?: Buffer;
}
const CACHED: Cached[] = [
  { name: 'ssh-to-age -private-key -json', bundle: 'ssh-to-age.cjs', files: ['ssh-to-age.cjs', 'lib/ssh-to-age.cjs'], args: ['-private-key', '-json', '-i', join(FIX, 'id_ed25519')] },
  { name: 'ssh-to-age < public key', bundle: 'ssh-to-age.cjs', files: ['ssh-to-age.cjs', 'lib/ssh-to-age.cjs'], args: [], input: readFileSync(join(FIX, 'id_ed25519.pub')) },
  { name: 'keybridge bw derive --identity', bundle: 'keybridge-bw.cjs', files: ['keybridge.cjs', 'commands/bw.cjs', 'lib/keybridge-bw.cjs'], args: ['bw', 'derive', 'cache-test', '--export', exportFile, '--identity'] },
  { name: 'keybridge ssh-to-age -private-key -json', bundle: 'keybridge-ssh-to-age.cjs', files: ['keybridge.cjs', 'commands/ssh-to-age.cjs', 'lib/keybridge-ssh-to-age.cjs'], args: ['ssh-to-age', '-private-key', '-json', '-i', join(FIX, 'id_ed25519')] },
];

/** A copy of the command's files, with `cache` as the bundle's code cache (none when undefined); returns the executable. */
function copy(c: Cached, cache: Uint8Array | undefined, tag: string): string {
  const d = join(dir, tag);
  for (const f of c.files) {
    mkdirSync(join(d, f, '..'), { recursive: true });
    copyFileSync(join(DIST, f), join(d, f));
  }
  if (cache) writeFileSync(join(d, 'lib', `${c.bundle}.cache`), cache);
  return join(d, c.files[0]!);
}

describe('one-shot commands: code cache', () => {
  it.each(CACHED.map((c, i) => [c.name, i] as const))('%s: the cache is accepted by this node, and a rejected or missing cache gives the same answer', async (_name, i) => {
    const c = CACHED[i]!;
    const once = async (exe: string) => {
      const r = await run(process.execPath, [exe, ...c.args], { input: c.input });
      return { code: r.code, stdout: r.stdout, stderr: r.stderr };
    };
    const expected = await once(join(DIST, c.files[0]!));
    expect(expected.code).toBe(0);
    expect(expected.stdout).toMatch(/age1[0-9a-z]{58}/);
    await expectCodeCacheFallbacks(join(DIST, 'lib', c.bundle), expected, (cache, tag) => once(copy(c, cache, `${i}-${tag}`)));
  });
});
