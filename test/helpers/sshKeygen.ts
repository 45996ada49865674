/**
 * Real keys made by ssh-keygen for tests. Passphrases of these throw-away keys go through
 * `-N`, ssh-keygen's only non-interactive way to set one.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'kb-ssh-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface GeneratedKey {
  readonly path: string;
  readonly privateKey: string;
  readonly publicKey: string;
}

function read(path: string): GeneratedKey {
  return { path, privateKey: readFileSync(path, 'utf8'), publicKey: readFileSync(`${path}.pub`, 'utf8') };
}

/** ssh-keygen -t TYPE, unencrypted, comment "test". */
export function generateKey(dir: string, name: string, type = 'ed25519'): GeneratedKey {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'test', '-f', path], { stdio: 'pipe' });
  return read(path);
}

/** Copy of an existing key re-encrypted with `ssh-keygen -p -Z cipher` (same key material). */
export function encryptCopy(key: GeneratedKey, dir: string, name: string, cipher: string, passphrase: string, rounds = 2): GeneratedKey {
  const path = join(dir, name);
  execFileSync('sh', ['-c', 'cp "$1" "$2" && cp "$1.pub" "$2.pub" && chmod 600 "$2"', 'sh', key.path, path]);
  execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', passphrase, '-Z', cipher, '-a', String(rounds), '-f', path], { stdio: 'pipe' });
  return read(path);
}
