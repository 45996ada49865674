/**
 * One call from an SSH private key file's text to its age identity, for library users.
 */
import { ed25519SeedToAgeIdentity } from './convert.ts';
import { parseEd25519PrivateKey } from './privateKey.ts';

/**
 * `AGE-SECRET-KEY-1…` of an Ed25519 private key (OpenSSH or PKCS#8 PEM), as ssh-to-age
 * -private-key prints it. `passphrase` is needed for encrypted keys. Warnings (e.g. a passphrase
 * given for an unencrypted key) are returned, not printed.
 */
export function sshPrivateKeyToAgeIdentity(
  pem: string,
  passphrase: string | Uint8Array = '',
): { identity: string; warnings: string[] } {
  const pass = typeof passphrase === 'string' ? Buffer.from(passphrase, 'utf8') : passphrase;
  const { seed, warnings } = parseEd25519PrivateKey(pem, pass);
  try {
    return { identity: ed25519SeedToAgeIdentity(seed), warnings };
  } finally {
    seed.fill(0);
  }
}
