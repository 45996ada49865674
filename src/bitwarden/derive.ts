/**
 * Age keys from a Bitwarden SSH-key item: the recipient (ssh-to-age of the public key, or of the
 * private key when only that is stored) and, when asked, the identity.
 */
import { sshPublicKeyToAgeRecipient } from '../ssh/lines.ts';
import { sshPrivateKeyToAgeIdentity } from '../ssh/identity.ts';
import { excerpt } from '../text/excerpt.ts';
import { BitwardenError, itemKeys, quoted, type BwItem } from './source.ts';

export interface DerivedKey {
  item: string;
  recipient: string;
  /** AGE-SECRET-KEY-1… — only when requested. */
  identity?: string;
  sshPublicKey?: string;
}

export function deriveFromItem(item: BwItem, opts: { identity?: boolean } = {}): DerivedKey {
  const keys = itemKeys(item);
  if (!keys.publicKey && !keys.privateKey) throw new BitwardenError('NO_ED25519', `Bitwarden item ${quoted(item.name)} holds no SSH key (neither an SSH-key item nor an ssh-ed25519 key in login/notes)`);
  let recipient: string | undefined;
  if (keys.publicKey) {
    if (!keys.publicKey.trim().startsWith('ssh-ed25519 ')) throw new BitwardenError('NO_ED25519', `Bitwarden item ${quoted(item.name)} holds a ${excerpt(keys.publicKey.trim().split(/\s/)[0]!)} key; only ed25519 keys convert to age`);
    try {
      recipient = sshPublicKeyToAgeRecipient(keys.publicKey);
    } catch (e) {
      throw new BitwardenError('NO_ED25519', `Bitwarden item ${quoted(item.name)}: ${(e as Error).message}`);
    }
  }
  let identity: string | undefined;
  if (opts.identity || !recipient) {
    if (!keys.privateKey) throw new BitwardenError('NO_ED25519', `Bitwarden item ${quoted(item.name)} holds no private key`);
    let pair;
    try {
      pair = sshPrivateKeyToAgeIdentity(keys.privateKey);
    } catch (e) {
      throw new BitwardenError('NO_ED25519', `Bitwarden item ${quoted(item.name)}: the private key cannot be converted (${(e as Error).message})`);
    }
    if (recipient && pair.recipient !== recipient) throw new BitwardenError('KEY_MISMATCH', `Bitwarden item ${quoted(item.name)}: its private and public keys do not belong together`);
    recipient = pair.recipient;
    identity = pair.identity;
  }
  return { item: item.name, recipient: recipient!, ...(opts.identity && identity ? { identity } : {}), ...(keys.publicKey ? { sshPublicKey: keys.publicKey.trim() } : {}) };
}
