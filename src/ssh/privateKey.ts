/**
 * Ed25519 private keys for ssh-to-age `-private-key`: the OpenSSH container
 * (`BEGIN OPENSSH PRIVATE KEY`, plain or bcrypt-encrypted with any cipher current ssh-keygen
 * writes) and PKCS#8 (`BEGIN PRIVATE KEY`, `BEGIN ENCRYPTED PRIVATE KEY`). The result is the
 * 32-byte seed; convert.ts turns it into the age identity. Messages never contain key material.
 */
import { createDecipheriv, createPrivateKey, timingSafeEqual } from 'node:crypto';
import { chacha20orig } from '@noble/ciphers/chacha.js';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { KeyConversionError } from './errors.ts';
import bcryptPbkdf from 'bcrypt-pbkdf';
import { WireReader } from './wire.ts';

export interface Ed25519PrivateKey {
  /** The 32-byte Ed25519 seed (RFC 8032 private key). Wipe it after use. */
  readonly seed: Uint8Array;
  /** Things the user should know that did not stop the conversion. */
  readonly warnings: string[];
}

interface CipherSpec {
  readonly keyLength: number;
  readonly ivLength: number;
  readonly decrypt: (key: Uint8Array, iv: Uint8Array, data: Uint8Array, tag: Uint8Array) => Uint8Array | undefined;
  readonly tagLength: number;
}

function streamOrBlock(nodeName: string, keyLength: number, ivLength = 16): CipherSpec {
  return {
    keyLength,
    ivLength,
    tagLength: 0,
    decrypt: (key, iv, data) => {
      const d = createDecipheriv(nodeName, key, iv);
      d.setAutoPadding(false);
      return Buffer.concat([d.update(data), d.final()]);
    },
  };
}

function gcm(nodeName: string, keyLength: number): CipherSpec {
  return {
    keyLength,
    ivLength: 12,
    tagLength: 16,
    decrypt: (key, iv, data, tag) => {
      const d = createDecipheriv(nodeName as 'aes-256-gcm', key, iv);
      d.setAuthTag(tag);
      try {
        return Buffer.concat([d.update(data), d.final()]);
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * chacha20-poly1305@openssh.com (PROTOCOL.chacha20poly1305) with sequence number 0 and no length
 * header: the first 32 bytes of the 64-byte key drive the payload; the Poly1305 key is the first
 * ChaCha20 block (counter 0), the payload starts at counter 1.
 */
const chacha20Poly1305OpenSsh: CipherSpec = {
  keyLength: 64,
  ivLength: 0,
  tagLength: 16,
  decrypt: (key, _iv, data, tag) => {
    const mainKey = key.subarray(0, 32);
    const nonce = new Uint8Array(8);
    const polyKey = chacha20orig(mainKey, nonce, new Uint8Array(32), undefined, 0);
    const expected = poly1305(data, polyKey);
    if (!timingSafeEqual(expected, tag)) return undefined;
    return chacha20orig(mainKey, nonce, data, undefined, 1);
  },
};

const CIPHERS: Record<string, CipherSpec> = {
  'aes128-ctr': streamOrBlock('aes-128-ctr', 16),
  'aes192-ctr': streamOrBlock('aes-192-ctr', 24),
  'aes256-ctr': streamOrBlock('aes-256-ctr', 32),
  'aes128-cbc': streamOrBlock('aes-128-cbc', 16),
  'aes192-cbc': streamOrBlock('aes-192-cbc', 24),
  'aes256-cbc': streamOrBlock('aes-256-cbc', 32),
  '3des-cbc': streamOrBlock('des-ede3-cbc', 24, 8),
  'aes128-gcm@openssh.com': gcm('aes-128-gcm', 16),
  'aes256-gcm@openssh.com': gcm('aes-256-gcm', 32),
  'chacha20-poly1305@openssh.com': chacha20Poly1305OpenSsh,
};

/** Cipher names accepted for encrypted OpenSSH keys. */
export const SUPPORTED_CIPHERS: readonly string[] = Object.keys(CIPHERS);

interface PemBlock {
  readonly label: string;
  readonly text: string;
  readonly body: Buffer;
  readonly line: number;
}

function pemBlocks(input: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(input); m; m = re.exec(input)) {
    const line = input.slice(0, m.index).split('\n').length;
    // Lines with a colon are RFC 1421 headers ("Proc-Type: …"), never base64.
    const body = m[2]!.split('\n').filter((l) => !l.includes(':')).join('');
    blocks.push({ label: m[1]!, text: m[0], body: Buffer.from(body.replace(/\s+/g, ''), 'base64'), line });
  }
  return blocks;
}

const MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

function malformed(what: string): KeyConversionError {
  return new KeyConversionError(`malformed OpenSSH private key: ${what}`, 'MALFORMED_PRIVATE_KEY');
}

function parseOpenSsh(body: Uint8Array, passphrase: Uint8Array, warnings: string[]): Uint8Array {
  if (body.length < MAGIC.length || !MAGIC.equals(body.subarray(0, MAGIC.length))) throw malformed('bad magic header');
  const r = new WireReader(body.subarray(MAGIC.length), malformed);
  const cipherName = r.text('cipher name');
  const kdfName = r.text('kdf name');
  const kdfOptions = r.string('kdf options');
  const nkeys = r.uint32('key count');
  if (nkeys !== 1) {
    throw new KeyConversionError(`the file holds ${nkeys} keys; multi-key files are not supported: split it with ssh-keygen`, 'MULTI_KEY');
  }
  r.string('public key');
  const encrypted = r.string('private section');

  let section: Uint8Array;
  if (cipherName === 'none') {
    if (kdfName !== 'none') throw malformed(`kdf ${kdfName} without a cipher`);
    if (passphrase.length > 0) {
      warnings.push('the private key is not passphrase protected; ignoring the passphrase');
    }
    section = encrypted;
  } else {
    const spec = Object.hasOwn(CIPHERS, cipherName) ? CIPHERS[cipherName] : undefined;
    if (!spec) {
      throw new KeyConversionError(
        `unsupported cipher "${cipherName}" (supported: ${SUPPORTED_CIPHERS.join(', ')}); re-encrypt a copy with 'ssh-keygen -p -Z aes256-ctr -f COPY'`,
        'UNSUPPORTED_CIPHER',
      );
    }
    if (kdfName !== 'bcrypt') throw new KeyConversionError(`unsupported key derivation "${kdfName}" (only bcrypt)`, 'UNSUPPORTED_KDF');
    if (passphrase.length === 0) {
      throw new KeyConversionError(
        'this private key is passphrase protected: set SSH_TO_AGE_PASSPHRASE or pass -stdinpass with -i FILE',
        'PASSPHRASE_REQUIRED',
      );
    }
    const kdf = new WireReader(kdfOptions, malformed);
    const salt = kdf.string('bcrypt salt');
    const rounds = kdf.uint32('bcrypt rounds');
    const derived = new Uint8Array(spec.keyLength + spec.ivLength);
    if (bcryptPbkdf.pbkdf(passphrase, passphrase.length, salt, salt.length, derived, derived.length, rounds) !== 0) {
      throw malformed('bcrypt parameters rejected');
    }
    const tag = r.bytesOf(spec.tagLength, 'authentication tag');
    let plain: Uint8Array | undefined;
    try {
      plain = spec.decrypt(derived.subarray(0, spec.keyLength), derived.subarray(spec.keyLength), encrypted, tag);
    } catch {
      throw malformed('the encrypted section has an invalid length');
    } finally {
      derived.fill(0);
    }
    if (!plain) throw wrongPassphrase();
    section = plain;
  }
  if (r.remaining !== 0) throw malformed('trailing data after the private section');
  try {
    return parsePrivateSection(section, cipherName !== 'none');
  } finally {
    if (cipherName !== 'none') section.fill(0);
  }
}

function wrongPassphrase(): KeyConversionError {
  return new KeyConversionError('decryption failed: the passphrase is incorrect', 'WRONG_PASSPHRASE');
}

function parsePrivateSection(section: Uint8Array, encrypted: boolean): Uint8Array {
  const r = new WireReader(section, malformed);
  const check1 = r.uint32('check value');
  const check2 = r.uint32('check value');
  if (check1 !== check2) throw encrypted ? wrongPassphrase() : malformed('check values differ');
  const keyType = r.text('key type');
  if (keyType !== 'ssh-ed25519') {
    throw new KeyConversionError(`got ${keyType} key type, but only ed25519 keys are supported`, 'UNSUPPORTED_KEY_TYPE');
  }
  const pub = r.string('ed25519 public key');
  const priv = r.string('ed25519 private key');
  if (pub.length !== 32 || priv.length !== 64) throw malformed('ed25519 key has the wrong size');
  r.string('comment');
  const padding = r.rest();
  for (let i = 0; i < padding.length; i++) if (padding[i] !== i + 1) throw malformed('padding not as expected');
  return Uint8Array.from(priv.subarray(0, 32));
}

function parsePkcs8(block: PemBlock, passphrase: Uint8Array, warnings: string[]): Uint8Array {
  const encrypted = block.label === 'ENCRYPTED PRIVATE KEY';
  if (encrypted && passphrase.length === 0) {
    throw new KeyConversionError(
      'this private key is passphrase protected: set SSH_TO_AGE_PASSPHRASE or pass -stdinpass with -i FILE',
      'PASSPHRASE_REQUIRED',
    );
  }
  if (!encrypted && passphrase.length > 0) warnings.push('the private key is not passphrase protected; ignoring the passphrase');
  let key;
  try {
    key = createPrivateKey(encrypted ? { key: block.text, format: 'pem', passphrase: Buffer.from(passphrase) } : { key: block.text, format: 'pem' });
  } catch {
    throw encrypted ? wrongPassphrase() : new KeyConversionError('malformed PKCS#8 private key', 'MALFORMED_PRIVATE_KEY');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyConversionError(`got ${key.asymmetricKeyType ?? 'unknown'} key type, but only ed25519 keys are supported`, 'UNSUPPORTED_KEY_TYPE');
  }
  const jwk = key.export({ format: 'jwk' });
  return Uint8Array.from(Buffer.from(jwk.d!, 'base64url'));
}

/**
 * Parses the first private key in `input` (PEM text). `passphrase` may be empty. Throws
 * KeyConversionError with a message that never includes key material.
 */
export function parseEd25519PrivateKey(input: string, passphrase: Uint8Array = new Uint8Array(0)): Ed25519PrivateKey {
  const warnings: string[] = [];
  const blocks = pemBlocks(input);
  const block = blocks[0];
  if (!block) {
    throw new KeyConversionError(
      input.trim() === '' ? 'the input is empty: expected an OpenSSH private key' : 'no private key found: expected a -----BEGIN OPENSSH PRIVATE KEY----- block',
      'NO_PRIVATE_KEY',
    );
  }
  if (blocks.length > 1) warnings.push(`the input holds ${blocks.length} PEM blocks; converting only the first (line ${block.line})`);
  let seed: Uint8Array;
  switch (block.label) {
    case 'OPENSSH PRIVATE KEY':
      seed = parseOpenSsh(block.body, passphrase, warnings);
      break;
    case 'PRIVATE KEY':
    case 'ENCRYPTED PRIVATE KEY':
      seed = parsePkcs8(block, passphrase, warnings);
      break;
    case 'RSA PRIVATE KEY':
    case 'EC PRIVATE KEY':
    case 'DSA PRIVATE KEY':
      throw new KeyConversionError(`got ${block.label.split(' ')[0]!.toLowerCase()} key type, but only ed25519 keys are supported`, 'UNSUPPORTED_KEY_TYPE');
    default:
      throw new KeyConversionError(`unsupported PEM block "${block.label}": expected an OpenSSH private key`, 'NO_PRIVATE_KEY');
  }
  return { seed, warnings };
}
