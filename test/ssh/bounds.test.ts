/**
 * Numbers read from key files are bounded before any work (bcrypt rounds, PBKDF2 iterations,
 * scrypt cost), and messages quote input only as a short excerpt.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { MAX_BCRYPT_ROUNDS, parseEd25519PrivateKey } from '../../src/ssh/privateKey.ts';
import { convertPublicKeyLines } from '../../src/ssh/lines.ts';
import { excerpt } from '../../src/text/excerpt.ts';
import { tlv } from '../../src/transport/tlv.ts';
import { DIST, run } from '../helpers/run.ts';

const FIX = new URL('../fixtures/ssh-to-age/', import.meta.url).pathname;

function pem(label: string, body: Uint8Array): string {
  const b64 = Buffer.from(body).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,70}/g, '$&\n')}-----END ${label}-----\n`;
}

function openSshBody(text: string): Buffer {
  return Buffer.from(/-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END/.exec(text)![1]!.replace(/\s+/g, ''), 'base64');
}

/** The encrypted fixture with its bcrypt rounds field replaced. */
function withRounds(rounds: number): string {
  const body = openSshBody(readFileSync(`${FIX}id_ed25519_passphrase`, 'utf8'));
  let off = 15; // "openssh-key-v1\0"
  off += 4 + body.readUInt32BE(off); // cipher
  off += 4 + body.readUInt32BE(off); // kdf name
  off += 4; // kdf options length
  off += 4 + body.readUInt32BE(off); // salt
  const patched = Buffer.from(body);
  patched.writeUInt32BE(rounds, off);
  return pem('OPENSSH PRIVATE KEY', patched);
}

function withCipherName(name: string): string {
  const body = openSshBody(readFileSync(`${FIX}id_ed25519_passphrase`, 'utf8'));
  const oldLen = body.readUInt32BE(15);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(Buffer.byteLength(name, 'latin1'));
  return pem('OPENSSH PRIVATE KEY', Buffer.concat([body.subarray(0, 15), len, Buffer.from(name, 'latin1'), body.subarray(19 + oldLen)]));
}

const int = (n: number) => {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  return tlv(0x02, Buffer.from(hex, 'hex'));
};
const oid = (hex: string) => tlv(0x06, Buffer.from(hex, 'hex'));
const seq = (...parts: Uint8Array[]) => tlv(0x30, Buffer.concat(parts));
const octets = (n: number) => tlv(0x04, new Uint8Array(n));

/** An EncryptedPrivateKeyInfo with PBES2 and the given key-derivation parameters (the data is junk). */
function encryptedPkcs8(kdf: Uint8Array): string {
  const aes256cbc = seq(oid('608648016503040102'), octets(16));
  return pem('ENCRYPTED PRIVATE KEY', seq(seq(oid('2a864886f70d01050d'), seq(kdf, aes256cbc)), octets(48)));
}

describe('bounded key-derivation costs', () => {
  it(`bcrypt rounds 0x7fffffff is refused at once (limit ${MAX_BCRYPT_ROUNDS}), with the fix`, () => {
    const start = performance.now();
    expect(() => parseEd25519PrivateKey(withRounds(0x7fffffff), Buffer.from('test'))).toThrow(
      expect.objectContaining({ code: 'KDF_COST_TOO_HIGH', message: expect.stringContaining("asks for 2147483647 bcrypt rounds, more than the 1024 accepted (ssh-keygen writes 16): if the file is yours, re-encrypt a copy with 'ssh-keygen -p -a 16 -f COPY'") }),
    );
    expect(() => parseEd25519PrivateKey(withRounds(MAX_BCRYPT_ROUNDS + 1), Buffer.from('test'))).toThrow(expect.objectContaining({ code: 'KDF_COST_TOO_HIGH' }));
    expect(() => parseEd25519PrivateKey(withRounds(0), Buffer.from('test'))).toThrow(expect.objectContaining({ code: 'MALFORMED_PRIVATE_KEY', message: expect.stringContaining('bcrypt rounds is 0') }));
    expect(performance.now() - start).toBeLessThan(2000);
    // the untouched fixture (16 rounds) still converts
    expect(parseEd25519PrivateKey(withRounds(16), Buffer.from('test')).seed).toHaveLength(32);
  });

  it('the CLI reports it with exit 1 and no key material', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const f = join(mkdtempSync(join(tmpdir(), 'kb-bounds-')), 'key');
    writeFileSync(f, withRounds(0x7fffffff));
    const r = await run(process.execPath, [`${DIST}/ssh-to-age.cjs`, '-private-key', '-i', f], { env: { ...process.env, SSH_TO_AGE_PASSPHRASE: 'test' }, timeoutMs: 10_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ssh-to-age: failed to convert the private key: the key asks for 2147483647 bcrypt rounds/);
    expect(r.stderr).not.toMatch(/AAAA|BEGIN/);
  });

  it('encrypted PKCS#8: PBKDF2 iterations and scrypt cost are bounded before OpenSSL runs them', () => {
    const pbkdf2 = (iter: number) => encryptedPkcs8(seq(oid('2a864886f70d01050c'), seq(octets(16), int(iter))));
    const start = performance.now();
    expect(() => parseEd25519PrivateKey(pbkdf2(0x7fffffff), Buffer.from('pw'))).toThrow(expect.objectContaining({ code: 'KDF_COST_TOO_HIGH' }));
    const scrypt = (n: number, r: number, p: number) => encryptedPkcs8(seq(oid('2b06010401da47040b'), seq(octets(16), int(n), int(r), int(p))));
    expect(() => parseEd25519PrivateKey(scrypt(2 ** 30, 8, 1), Buffer.from('pw'))).toThrow(expect.objectContaining({ code: 'KDF_COST_TOO_HIGH' }));
    expect(() => parseEd25519PrivateKey(scrypt(2 ** 14, 8, 2 ** 20), Buffer.from('pw'))).toThrow(expect.objectContaining({ code: 'KDF_COST_TOO_HIGH' }));
    expect(performance.now() - start).toBeLessThan(2000);
    // sane parameters reach OpenSSL, which finds the junk data undecryptable
    expect(() => parseEd25519PrivateKey(pbkdf2(2048), Buffer.from('pw'))).toThrow(expect.objectContaining({ code: 'WRONG_PASSPHRASE' }));
    // truncated DER is malformed, not a crash
    expect(() => parseEd25519PrivateKey(pem('ENCRYPTED PRIVATE KEY', Uint8Array.of(0x30, 0x84, 0xff, 0xff, 0xff, 0xff)), Buffer.from('pw'))).toThrow(expect.objectContaining({ code: 'MALFORMED_PRIVATE_KEY' }));
  });
});

describe('bounded echoes', () => {
  it('excerpt: short, printable, says how long the original was', () => {
    expect(excerpt('ssh-ed25519')).toBe('ssh-ed25519');
    expect(excerpt('a\u001b[2Jb\u00e9\u202e')).toBe('a\\x1b[2Jbé\\u202e');
    // escapes count against the bound (found by the bitwarden-export fuzz target)
    expect(excerpt('\u0007'.repeat(100)).length).toBeLessThan(70);
    expect(excerpt('é'.repeat(100))).toBe(`${'é'.repeat(40)}… (100 characters)`);
    expect(excerpt('x'.repeat(1000))).toBe(`${'x'.repeat(40)}… (1000 characters)`);
  });

  it('a 100 KB cipher name or key type is quoted as an excerpt', () => {
    const name = `aes${'\u0007'.repeat(10)}${'z'.repeat(100_000)}`;
    try {
      parseEd25519PrivateKey(withCipherName(name), Buffer.from('test'));
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message.length).toBeLessThan(400);
      expect((e as Error).message).toContain('unsupported cipher "aes\\x07\\x07');
    }
    const r = convertPublicKeyLines(`ssh-${'q'.repeat(500_000)} AAAA%%\n`);
    expect(r.error?.error.message.length).toBeLessThan(300);
  });

  it('a 10 MB line: a short error on stderr, never the line or the key', async () => {
    const key = 'AAAAC3NzaC1lZDI1NTE5AAAAIOHz+U0YtjINc54dZiJNclfmEFifF7RXCFlNlTbuZBji';
    const line = `ssh-ed25519 ${key} ${'c'.repeat(10_000_000)}\n`;
    const r = await run(process.execPath, [`${DIST}/ssh-to-age.cjs`], { input: line, timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('ssh-to-age: line 1: the line is longer than 1048576 characters: not a public key line');
    const broken = `ssh-ed25519 ${'A'.repeat(500_000)}\n`;
    const b = await run(process.execPath, [`${DIST}/ssh-to-age.cjs`], { input: broken, timeoutMs: 20_000 });
    expect(b.code).toBe(1);
    expect(b.stderr.length).toBeLessThan(300);
    expect(b.stderr).not.toContain('A'.repeat(50));
  });
});
