import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  ed25519PublicKeyToAgeRecipient,
  KeyConversionError,
  parseEd25519PrivateKey,
  sshPrivateKeyToAgeIdentity,
  sshPublicKeyToAgeRecipient,
  SUPPORTED_CIPHERS,
} from '../../src/index.ts';
import { findTool, itWith } from '../helpers/tools.ts';
import { encryptCopy, generateKey, tempDir, type GeneratedKey } from '../helpers/sshKeygen.ts';

const sshKeygen = findTool('ssh-keygen');
const ageKeygen = findTool('age-keygen');
const itSsh = itWith([sshKeygen]);
const itSshAge = itWith([sshKeygen, ageKeygen]);
const PASS = 'correct horse';

function ageKeygenY(identity: string, dir: string): string {
  const file = join(dir, `id-${Math.random().toString(16).slice(2)}.txt`);
  writeFileSync(file, `${identity}\n`, { mode: 0o600 });
  return execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim();
}

function errorOf(fn: () => unknown): KeyConversionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KeyConversionError);
    return err as KeyConversionError;
  }
  throw new Error('expected a KeyConversionError');
}

function pemBody(pem: string): string {
  return pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
}

describe('OpenSSH private keys made by ssh-keygen', () => {
  let dir: string;
  let plain: GeneratedKey;
  let plainIdentity: string;
  beforeAll(() => {
    if (sshKeygen.missing) return;
    dir = tempDir();
    plain = generateKey(dir, 'plain');
    plainIdentity = sshPrivateKeyToAgeIdentity(plain.privateKey).identity;
  });

  itSshAge('plain key: age-keygen -y of the identity is the converted public key', () => {
    expect(plainIdentity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    expect(ageKeygenY(plainIdentity, dir)).toBe(sshPublicKeyToAgeRecipient(plain.publicKey));
    expect(sshPrivateKeyToAgeIdentity(plain.privateKey).recipient).toBe(sshPublicKeyToAgeRecipient(plain.publicKey));
  });

  for (const cipher of SUPPORTED_CIPHERS) {
    itSsh(`encrypted with ${cipher} (ssh-keygen -Z): same identity; wrong passphrase rejected`, () => {
      const key = encryptCopy(plain, dir, cipher.replace(/[@.]/g, '_'), cipher, PASS);
      expect(key.privateKey).not.toBe(plain.privateKey);
      expect(Buffer.from(pemBody(key.privateKey), 'base64').includes(Buffer.from(cipher))).toBe(true);
      expect(sshPrivateKeyToAgeIdentity(key.privateKey, PASS).identity).toBe(plainIdentity);
      const wrong = errorOf(() => parseEd25519PrivateKey(key.privateKey, Buffer.from('wrong')));
      expect(wrong.code).toBe('WRONG_PASSPHRASE');
      const missing = errorOf(() => parseEd25519PrivateKey(key.privateKey));
      expect(missing.code).toBe('PASSPHRASE_REQUIRED');
      expect(missing.message).toMatch(/SSH_TO_AGE_PASSPHRASE/);
    });
  }

  itSsh('default ssh-keygen encryption (aes256-ctr, 16 bcrypt rounds)', () => {
    const key = encryptCopy(plain, dir, 'default', 'aes256-ctr', PASS, 16);
    expect(sshPrivateKeyToAgeIdentity(key.privateKey, PASS).identity).toBe(plainIdentity);
  });

  itSsh('an unencrypted key with a passphrase set converts with a warning', () => {
    const r = sshPrivateKeyToAgeIdentity(plain.privateKey, PASS);
    expect(r.identity).toBe(plainIdentity);
    expect(r.warnings).toEqual(['the private key is not passphrase protected; ignoring the passphrase']);
  });

  itSsh('an RSA key is refused with the reference wording', () => {
    const rsa = generateKey(dir, 'rsa', 'rsa');
    const err = errorOf(() => parseEd25519PrivateKey(rsa.privateKey));
    expect(err.code).toBe('UNSUPPORTED_KEY_TYPE');
    expect(err.message).toBe('got ssh-rsa key type, but only ed25519 keys are supported');
  });

  itSsh('a multi-key container is refused', () => {
    const body = Buffer.from(pemBody(plain.privateKey), 'base64');
    // magic(15) + "none" + "none" + "" + nkeys: patch nkeys to 2 and duplicate the public key.
    const nkeysAt = 15 + 8 + 8 + 4;
    expect(body.readUInt32BE(nkeysAt)).toBe(1);
    const pubLen = body.readUInt32BE(nkeysAt + 4);
    const pub = body.subarray(nkeysAt + 4, nkeysAt + 8 + pubLen);
    const multi = Buffer.concat([body.subarray(0, nkeysAt), Buffer.from([0, 0, 0, 2]), pub, body.subarray(nkeysAt + 4)]);
    const pem = `-----BEGIN OPENSSH PRIVATE KEY-----\n${multi.toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`;
    const err = errorOf(() => parseEd25519PrivateKey(pem));
    expect(err.code).toBe('MULTI_KEY');
    expect(err.message).toMatch(/multi-key files are not supported/);
  });

  itSsh('truncated and damaged containers fail without echoing key material', () => {
    const body = pemBody(plain.privateKey);
    const truncated = `-----BEGIN OPENSSH PRIVATE KEY-----\n${body.slice(0, 120)}\n-----END OPENSSH PRIVATE KEY-----\n`;
    const err = errorOf(() => parseEd25519PrivateKey(truncated));
    expect(err.code).toBe('MALFORMED_PRIVATE_KEY');
    expect(err.message).not.toContain(body.slice(20, 40));
  });
});

describe('PKCS#8 Ed25519 keys', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const recipient = ed25519PublicKeyToAgeRecipient(raw);

  itWith([ageKeygen])('BEGIN PRIVATE KEY converts; age-keygen -y agrees', () => {
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const { identity } = sshPrivateKeyToAgeIdentity(pem);
    expect(ageKeygenY(identity, tempDir())).toBe(recipient);
  });

  itWith([ageKeygen])('BEGIN ENCRYPTED PRIVATE KEY converts with its passphrase', () => {
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: PASS }) as string;
    expect(pem).toContain('BEGIN ENCRYPTED PRIVATE KEY');
    const { identity } = sshPrivateKeyToAgeIdentity(pem, PASS);
    expect(ageKeygenY(identity, tempDir())).toBe(recipient);
    expect(errorOf(() => parseEd25519PrivateKey(pem, Buffer.from('nope'))).code).toBe('WRONG_PASSPHRASE');
    expect(errorOf(() => parseEd25519PrivateKey(pem)).code).toBe('PASSPHRASE_REQUIRED');
  });

  it('non-Ed25519 PKCS#8 is refused', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    expect(errorOf(() => parseEd25519PrivateKey(ec)).message).toBe('got ec key type, but only ed25519 keys are supported');
  });
});

describe('inputs without a key', () => {
  for (const [name, input, code] of [
    ['empty input', '', 'NO_PRIVATE_KEY'],
    ['garbage', 'not a key at all\n', 'NO_PRIVATE_KEY'],
    ['a public key given as private', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOHz+U0YtjINc54dZiJNclfmEFifF7RXCFlNlTbuZBji\n', 'NO_PRIVATE_KEY'],
  ] as const) {
    it(name, () => expect(errorOf(() => parseEd25519PrivateKey(input)).code).toBe(code));
  }

  it('the seed read back matches the key (noble cross-check)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const { seed } = parseEd25519PrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
    expect(Buffer.from(ed25519.getPublicKey(seed)).toString('base64url')).toBe(publicKey.export({ format: 'jwk' }).x);
  });
});
