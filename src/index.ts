/**
 * keybridge library entry point. Everything the CLIs do is callable from here.
 */
export { VERSION } from './version.ts';

// ssh-to-age: SSH Ed25519 keys → age recipients and identities.
export {
  ed25519FromSshBlob,
  ed25519PublicKeyToAgeRecipient,
  ed25519PublicKeysToAgeRecipients,
  ed25519SeedToAgeIdentity,
  ed25519SeedToX25519Scalar,
  sshBlobKeyType,
  sshPublicKeyToAgeRecipient,
  x25519ToAgeRecipient,
} from './ssh/convert.ts';
export { KeyConversionError, type SshToAgeErrorCode } from './ssh/errors.ts';
export {
  convertPublicKeyLines,
  parsePublicKeyLine,
  skippedKeyMessage,
  type LineOutcome,
  type LineResult,
  type PublicKeysConversion,
} from './ssh/lines.ts';
export { parseEd25519PrivateKey, SUPPORTED_CIPHERS, type Ed25519PrivateKey } from './ssh/privateKey.ts';
export { isValidEd25519Encoding } from './ssh/montgomery.ts';
export { sshPrivateKeyToAgeIdentity, type AgeKeyPair } from './ssh/identity.ts';
export { writeFileAtomic, type AtomicWriteOptions } from './fs/atomicWrite.ts';
