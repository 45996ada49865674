/**
 * OpenSSH and PKCS#8 private keys for ssh-to-age -private-key: mutated containers (counts,
 * lengths, KDF rounds set to extremes), random PEM bodies, wrong labels. Only KeyConversionError
 * with a bounded message; costs read from the input never make a case slow.
 */
import fc from 'fast-check';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseEd25519PrivateKey } from '../../src/ssh/privateKey.ts';
import { KeyConversionError } from '../../src/ssh/errors.ts';
import { mutatedBytes } from '../arbitraries.ts';
import { boundedError, registerTarget } from '../registry.ts';

const FIX = new URL('../../test/fixtures/ssh-to-age/', import.meta.url);
const body = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
const plain = body(readFileSync(new URL('id_ed25519', FIX), 'utf8'));
/** The encrypted fixture with its bcrypt rounds lowered to 1 (a mutated case stays cheap). */
const encrypted = (() => {
  const b = body(readFileSync(new URL('id_ed25519_passphrase', FIX), 'utf8'));
  let off = 15;
  off += 4 + b.readUInt32BE(off);
  off += 4 + b.readUInt32BE(off);
  off += 4;
  off += 4 + b.readUInt32BE(off);
  b.writeUInt32BE(1, off);
  return b;
})();
const { privateKey } = generateKeyPairSync('ed25519');
const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
const pkcs8Enc = body(privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-128-cbc', passphrase: 'pw' }) as string);

const pem = (label: string, b: Uint8Array) => `-----BEGIN ${label}-----\n${Buffer.from(b).toString('base64').replace(/.{1,70}/g, '$&\n')}-----END ${label}-----\n`;

const input = fc.oneof(
  { weight: 8, arbitrary: mutatedBytes([plain]).map((b) => ({ text: pem('OPENSSH PRIVATE KEY', b), pass: '' })) },
  { weight: 1, arbitrary: mutatedBytes([encrypted]).map((b) => ({ text: pem('OPENSSH PRIVATE KEY', b), pass: 'test' })) },
  { weight: 3, arbitrary: mutatedBytes([pkcs8]).map((b) => ({ text: pem('PRIVATE KEY', b), pass: '' })) },
  { weight: 1, arbitrary: mutatedBytes([pkcs8Enc]).map((b) => ({ text: pem('ENCRYPTED PRIVATE KEY', b), pass: 'pw' })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('OPENSSH PRIVATE KEY', 'PRIVATE KEY', 'RSA PRIVATE KEY', 'X'), fc.uint8Array({ maxLength: 200 })).map(([l, b]) => ({ text: pem(l, b), pass: '' })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((text) => ({ text, pass: 'x' })) },
);

registerTarget({
  name: 'private-key',
  description: 'parseEd25519PrivateKey on mutated OpenSSH (plain, bcrypt) and PKCS#8 (plain, PBES2) keys and random PEM',
  input,
  run({ text, pass }) {
    const k = parseEd25519PrivateKey(text, Buffer.from(pass));
    if (k.seed.length !== 32 || k.publicKey.length !== 32) throw new Error('a key of the wrong size was accepted');
  },
  documented: (e) => boundedError(e, KeyConversionError),
  timeoutMs: 5000,
});
