/**
 * Ed25519 private keys for ssh-to-age `-private-key`: the OpenSSH container
 * (`BEGIN OPENSSH PRIVATE KEY`, plain or bcrypt-encrypted with any cipher current ssh-keygen
 * writes) and PKCS#8 (`BEGIN PRIVATE KEY`, `BEGIN ENCRYPTED PRIVATE KEY`). The result is the
 * 32-byte seed and the public key; convert.ts turns them into the age identity and recipient.
 * Messages never contain key material and quote input only as a short excerpt.
 *
 * Costs read from the file are bounded before any work: bcrypt rounds (at most
 * MAX_BCRYPT_ROUNDS), PBKDF2 iterations and scrypt parameters of encrypted PKCS#8.
 */
import type { KeyObject } from 'node:crypto';
import { nodeCrypto } from '../nodeCrypto.ts';
import { openssl } from '../openssl.ts';
import { createRequire } from 'node:module';
import { chacha20orig } from '@noble/ciphers/chacha.js';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { excerpt } from '../text/excerpt.ts';
import { KeyConversionError } from './errors.ts';
import { WireReader } from './wire.ts';

export interface Ed25519PrivateKey {
  /** The 32-byte Ed25519 seed (RFC 8032 private key). Wipe it after use. */
  readonly seed: Uint8Array;
  /** The 32-byte Ed25519 public key: the one the file holds, checked against the seed. */
  readonly publicKey: Uint8Array;
  /** Things the user should know that did not stop the conversion. */
  readonly warnings: string[];
}

/** ssh-keygen writes 16 rounds (-a N changes it); each costs tens of ms, so this caps the work at about a minute. */
export const MAX_BCRYPT_ROUNDS = 1024;
/** PBKDF2 iterations of an encrypted PKCS#8 key (OpenSSL writes 2048; 600,000 is today's advice). */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;
/** scrypt N·r·128 bytes of memory, at most (OpenSSL refuses more than 32 MiB anyway). */
const MAX_SCRYPT_MEMORY = 1 << 30;

type Pbkdf = (pass: Uint8Array, passlen: number, salt: Uint8Array, saltlen: number, key: Uint8Array, keylen: number, rounds: number) => number;
let bcryptPbkdf: Pbkdf | undefined;
/** bcrypt_pbkdf (the bcrypt-pbkdf package), loaded only for an encrypted key. */
function bcryptKdf(): Pbkdf {
  bcryptPbkdf ??= (createRequire(import.meta.url)('bcrypt-pbkdf') as { pbkdf: Pbkdf }).pbkdf;
  return bcryptPbkdf;
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
      const d = nodeCrypto().createDecipheriv(nodeName, key, iv);
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
      const d = nodeCrypto().createDecipheriv(nodeName as 'aes-256-gcm', key, iv);
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
    if (!nodeCrypto().timingSafeEqual(expected, tag)) return undefined;
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

function parseOpenSsh(body: Uint8Array, passphrase: Uint8Array, warnings: string[]): { seed: Uint8Array; publicKey: Uint8Array } {
  if (body.length < MAGIC.length || !MAGIC.equals(body.subarray(0, MAGIC.length))) throw malformed('bad magic header');
  const r = new WireReader(body.subarray(MAGIC.length), malformed);
  const cipherName = r.text('cipher name');
  const kdfName = r.text('kdf name');
  const kdfOptions = r.string('kdf options');
  const nkeys = r.uint32('key count');
  if (nkeys !== 1) {
    throw new KeyConversionError(`the file holds ${nkeys} keys; multi-key files are not supported: split it with ssh-keygen`, 'MULTI_KEY');
  }
  const outerPublic = r.string('public key');
  const encrypted = r.string('private section');

  let section: Uint8Array;
  if (cipherName === 'none') {
    if (kdfName !== 'none') throw malformed(`kdf "${excerpt(kdfName)}" without a cipher`);
    if (passphrase.length > 0) {
      warnings.push('the private key is not passphrase protected; ignoring the passphrase');
    }
    section = encrypted;
  } else {
    const spec = Object.hasOwn(CIPHERS, cipherName) ? CIPHERS[cipherName] : undefined;
    if (!spec) {
      throw new KeyConversionError(
        `unsupported cipher "${excerpt(cipherName)}" (supported: ${SUPPORTED_CIPHERS.join(', ')}); re-encrypt a copy with 'ssh-keygen -p -Z aes256-ctr -f COPY'`,
        'UNSUPPORTED_CIPHER',
      );
    }
    if (kdfName !== 'bcrypt') throw new KeyConversionError(`unsupported key derivation "${excerpt(kdfName)}" (only bcrypt)`, 'UNSUPPORTED_KDF');
    if (passphrase.length === 0) {
      throw new KeyConversionError(
        'this private key is passphrase protected: set SSH_TO_AGE_PASSPHRASE or pass -stdinpass with -i FILE',
        'PASSPHRASE_REQUIRED',
      );
    }
    const kdf = new WireReader(kdfOptions, malformed);
    const salt = kdf.string('bcrypt salt');
    const rounds = kdf.uint32('bcrypt rounds');
    if (rounds === 0) throw malformed('bcrypt rounds is 0');
    if (rounds > MAX_BCRYPT_ROUNDS) {
      throw new KeyConversionError(
        `the key asks for ${rounds} bcrypt rounds, more than the ${MAX_BCRYPT_ROUNDS} accepted (ssh-keygen writes 16): if the file is yours, re-encrypt a copy with 'ssh-keygen -p -a 16 -f COPY'`,
        'KDF_COST_TOO_HIGH',
      );
    }
    if (salt.length === 0 || salt.length > 1024) throw malformed(`bcrypt salt of ${salt.length} bytes`);
    const derived = new Uint8Array(spec.keyLength + spec.ivLength);
    if (bcryptKdf()(passphrase, passphrase.length, salt, salt.length, derived, derived.length, rounds) !== 0) {
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
  let key: { seed: Uint8Array; publicKey: Uint8Array };
  try {
    key = parsePrivateSection(section, cipherName !== 'none');
  } finally {
    if (cipherName !== 'none') section.fill(0);
  }
  // The public key is stored three times (outer blob, private section twice): all must agree.
  const outer = new WireReader(outerPublic, malformed);
  if (outer.text('public key type') !== 'ssh-ed25519' || !Buffer.from(outer.string('public key')).equals(key.publicKey) || outer.remaining !== 0) {
    key.seed.fill(0);
    throw malformed('the public key does not match the private key');
  }
  return key;
}

function wrongPassphrase(): KeyConversionError {
  return new KeyConversionError('decryption failed: the passphrase is incorrect', 'WRONG_PASSPHRASE');
}

function parsePrivateSection(section: Uint8Array, encrypted: boolean): { seed: Uint8Array; publicKey: Uint8Array } {
  const r = new WireReader(section, malformed);
  const check1 = r.uint32('check value');
  const check2 = r.uint32('check value');
  if (check1 !== check2) throw encrypted ? wrongPassphrase() : malformed('check values differ');
  const keyType = r.text('key type');
  if (keyType !== 'ssh-ed25519') {
    throw new KeyConversionError(`got ${excerpt(keyType)} key type, but only ed25519 keys are supported`, 'UNSUPPORTED_KEY_TYPE');
  }
  const pub = r.string('ed25519 public key');
  const priv = r.string('ed25519 private key');
  if (pub.length !== 32 || priv.length !== 64) throw malformed('ed25519 key has the wrong size');
  r.string('comment');
  const padding = r.rest();
  for (let i = 0; i < padding.length; i++) if (padding[i] !== i + 1) throw malformed('padding not as expected');
  if (!Buffer.from(priv.subarray(32)).equals(pub)) throw malformed('the public key does not match the private key');
  const seed = Uint8Array.from(priv.subarray(0, 32));
  // The stored public key is what the reference uses; OpenSSL checks that it belongs to the seed.
  if (!Buffer.from(ed25519PublicKeyOfSeed(seed)).equals(pub)) {
    seed.fill(0);
    throw malformed('the public key does not match the private key');
  }
  return { seed, publicKey: Uint8Array.from(pub) };
}

/** The Ed25519 public key of a 32-byte seed, computed by OpenSSL (src/openssl.ts). */
export function ed25519PublicKeyOfSeed(seed: Uint8Array): Uint8Array {
  return openssl().ed25519PublicKey(seed);
}

function ed25519PublicKeyOf(key: KeyObject): Uint8Array {
  return Uint8Array.from(Buffer.from(nodeCrypto().createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url'));
}

/** A minimal DER walk (definite lengths only) over the parameters of an encrypted PKCS#8 key. */
function derChildren(data: Uint8Array): { tag: number; value: Uint8Array }[] {
  const out: { tag: number; value: Uint8Array }[] = [];
  let i = 0;
  while (i < data.length) {
    if (i + 2 > data.length) throw pkcs8Malformed();
    const tag = data[i]!;
    let len = data[i + 1]!;
    i += 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || i + n > data.length) throw pkcs8Malformed();
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + data[i + k]!;
      i += n;
    }
    if (i + len > data.length) throw pkcs8Malformed();
    out.push({ tag, value: data.subarray(i, i + len) });
    i += len;
  }
  return out;
}

function pkcs8Malformed(): KeyConversionError {
  return new KeyConversionError('malformed PKCS#8 private key', 'MALFORMED_PRIVATE_KEY');
}

function derInteger(v: { tag: number; value: Uint8Array } | undefined): number {
  if (!v || v.tag !== 0x02 || v.value.length === 0) throw pkcs8Malformed();
  if (v.value.length > 6) return Number.MAX_SAFE_INTEGER;
  let n = 0;
  for (const b of v.value) n = n * 256 + b;
  return n;
}

const OID_PBES2 = '2a864886f70d01050d';
const OID_PBKDF2 = '2a864886f70d01050c';
const OID_SCRYPT = '2b06010401da47040b';

function costTooHigh(what: string): KeyConversionError {
  return new KeyConversionError(`the key's ${what} is beyond what is accepted; re-encrypt a copy with default settings ('openssl pkcs8 -topk8 -in COPY')`, 'KDF_COST_TOO_HIGH');
}

/** Refuses an encrypted PKCS#8 key whose key-derivation cost is out of bounds, before OpenSSL runs it. */
function checkPkcs8Cost(der: Uint8Array): void {
  const [top] = derChildren(der);
  if (!top || top.tag !== 0x30) throw pkcs8Malformed();
  const [alg] = derChildren(top.value);
  if (!alg || alg.tag !== 0x30) throw pkcs8Malformed();
  const [oid, params] = derChildren(alg.value);
  if (!oid || oid.tag !== 0x06 || !params || params.tag !== 0x30) throw pkcs8Malformed();
  let kdfOid = Buffer.from(oid.value).toString('hex');
  let kdfParams = params;
  if (kdfOid === OID_PBES2) {
    const [kdf] = derChildren(params.value);
    if (!kdf || kdf.tag !== 0x30) throw pkcs8Malformed();
    const [o, p] = derChildren(kdf.value);
    if (!o || o.tag !== 0x06 || !p || p.tag !== 0x30) throw pkcs8Malformed();
    kdfOid = Buffer.from(o.value).toString('hex');
    kdfParams = p;
  }
  const fields = derChildren(kdfParams.value);
  if (kdfOid === OID_SCRYPT) {
    const [n, r, p] = [derInteger(fields[1]), derInteger(fields[2]), derInteger(fields[3])];
    if (n > 1 << 24 || r > 64 || p > 64 || n * r * 128 > MAX_SCRYPT_MEMORY || n * r * p > 1 << 28) throw costTooHigh('scrypt cost');
  } else if (kdfOid === OID_PBKDF2 || fields[1]?.tag === 0x02) {
    // PBKDF2, and PBES1 / PKCS#12 schemes ({ salt, iterations })
    if (derInteger(fields[1]) > MAX_PBKDF2_ITERATIONS) throw costTooHigh(`iteration count (more than ${MAX_PBKDF2_ITERATIONS})`);
  }
}

function parsePkcs8(block: PemBlock, passphrase: Uint8Array, warnings: string[]): { seed: Uint8Array; publicKey: Uint8Array } {
  const encrypted = block.label === 'ENCRYPTED PRIVATE KEY';
  if (encrypted && passphrase.length === 0) {
    throw new KeyConversionError(
      'this private key is passphrase protected: set SSH_TO_AGE_PASSPHRASE or pass -stdinpass with -i FILE',
      'PASSPHRASE_REQUIRED',
    );
  }
  if (!encrypted && passphrase.length > 0) warnings.push('the private key is not passphrase protected; ignoring the passphrase');
  if (encrypted) checkPkcs8Cost(block.body);
  let key;
  try {
    key = nodeCrypto().createPrivateKey(encrypted ? { key: block.text, format: 'pem', passphrase: Buffer.from(passphrase) } : { key: block.text, format: 'pem' });
  } catch {
    throw encrypted ? wrongPassphrase() : new KeyConversionError('malformed PKCS#8 private key', 'MALFORMED_PRIVATE_KEY');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyConversionError(`got ${key.asymmetricKeyType ?? 'unknown'} key type, but only ed25519 keys are supported`, 'UNSUPPORTED_KEY_TYPE');
  }
  const jwk = key.export({ format: 'jwk' });
  return { seed: Uint8Array.from(Buffer.from(jwk.d!, 'base64url')), publicKey: ed25519PublicKeyOf(key) };
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
  let key: { seed: Uint8Array; publicKey: Uint8Array };
  switch (block.label) {
    case 'OPENSSH PRIVATE KEY':
      key = parseOpenSsh(block.body, passphrase, warnings);
      break;
    case 'PRIVATE KEY':
    case 'ENCRYPTED PRIVATE KEY':
      key = parsePkcs8(block, passphrase, warnings);
      break;
    case 'RSA PRIVATE KEY':
    case 'EC PRIVATE KEY':
    case 'DSA PRIVATE KEY':
      throw new KeyConversionError(`got ${block.label.split(' ')[0]!.toLowerCase()} key type, but only ed25519 keys are supported`, 'UNSUPPORTED_KEY_TYPE');
    default:
      throw new KeyConversionError(`unsupported PEM block "${excerpt(block.label)}": expected an OpenSSH private key`, 'NO_PRIVATE_KEY');
  }
  return { ...key, warnings };
}
