/**
 * npm's content cache (~/.npm/_cacache): which tarball URLs `npm ci` downloaded, with their
 * integrity. Lets tests check registry URLs and install packages offline from what is there.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface NpmCacheIndex {
  /** URL → integrity */
  readonly byUrl: Map<string, string>;
  /** integrity → URL */
  readonly byIntegrity: Map<string, string>;
}

export function npmCacheIndex(): NpmCacheIndex {
  const byUrl = new Map<string, string>();
  const byIntegrity = new Map<string, string>();
  const root = join(process.env.npm_config_cache || join(homedir(), '.npm'), '_cacache', 'index-v5');
  const prefix = 'make-fetch-happen:request-cache:';
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile())
        for (const line of readFileSync(p, 'utf8').split('\n')) {
          const tab = line.indexOf('\t');
          if (tab < 0) continue;
          try {
            const entry = JSON.parse(line.slice(tab + 1)) as { key: string; integrity: string };
            if (!entry.key.startsWith(prefix) || !entry.key.endsWith('.tgz')) continue;
            byUrl.set(entry.key.slice(prefix.length), entry.integrity);
            byIntegrity.set(entry.integrity, entry.key.slice(prefix.length));
          } catch {
            /* a partly written entry */
          }
        }
    }
  };
  if (existsSync(root)) walk(root);
  return { byUrl, byIntegrity };
}
