/**
 * One call from an SSH private key file's text to its age identity, for library users.
 */
import { ed25519PublicKeyToAgeRecipient, ed25519SeedToAgeIdentity } from './convert.ts';
import { parseEd25519PrivateKey } from './privateKey.ts';

export interface AgeKeyPair {
  /** `AGE-SECRET-KEY-1…`, exactly as ssh-to-age -private-key prints it. */
  readonly identity: string;
  /** The matching `age1…` recipient (what ssh-to-age prints for the public key). */
  readonly recipient: string;
  /** Things that did not stop the conversion, e.g. a passphrase given for an unencrypted key. */
  readonly warnings: string[];
}

/**
 * age identity and recipient of an Ed25519 private key (OpenSSH or PKCS#8 PEM).
 * `passphrase` is needed for encrypted keys. Warnings are returned, not printed.
 */
export function sshPrivateKeyToAgeIdentity(pem: string, passphrase: string | Uint8Array = ''): AgeKeyPair {
  const pass = typeof passphrase === 'string' ? Buffer.from(passphrase, 'utf8') : passphrase;
  const { seed, publicKey, warnings } = parseEd25519PrivateKey(pem, pass);
  try {
    let recipient: string | undefined;
    return {
      identity: ed25519SeedToAgeIdentity(seed),
      // the public key the file holds (checked against the seed by OpenSSL), not recomputed
      // here; converted when first asked for (ssh-to-age -private-key prints only the identity)
      get recipient() {
        return (recipient ??= ed25519PublicKeyToAgeRecipient(publicKey));
      },
      warnings,
    };
  } finally {
    seed.fill(0);
  }
}
