/**
 * Writes the man pages and completion files of every executable into a directory (the build puts
 * them in dist/: man/<bin>.1, completions/<bin>.bash, _<bin>, <bin>.fish), where package.json's
 * `man` field and the Nix package pick them up.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHELLS, completionFileName, completionScript } from './completion.ts';
import { manPage } from './manpage.ts';
import { programs } from './programs.ts';

export async function writeDocs(dir: string): Promise<string[]> {
  const written: string[] = [];
  const put = (rel: string, text: string) => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
    written.push(rel);
  };
  for (const p of await programs()) {
    put(join('man', `${p.name}.1`), manPage(p));
    for (const shell of SHELLS) put(join('completions', completionFileName(shell, p.name)), completionScript(shell, [p]));
  }
  return written;
}
