import { describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { p256 } from '@noble/curves/nist.js';
import { buildSelfSignedCertificate, firstAttribute, OID, parseCertificate } from '../../../src/tokens/piv/certificate.ts';

async function makeCert(policy?: readonly [number, number]) {
  const sk = p256.utils.randomSecretKey();
  const publicKey = p256.getPublicKey(sk, false);
  const der = await buildSelfSignedCertificate({
    subject: [
      { type: OID.organization, value: 'age-plugin-yubikey' },
      { type: OID.organizationalUnit, value: '0.5.0' },
      { type: OID.commonName, value: 'age identity 03acfee8' },
    ],
    publicKey,
    ...(policy ? { policy } : {}),
    notBefore: new Date(Date.UTC(2023, 0, 28, 8, 22, 29)),
    signDigest: async (digest) => p256.sign(digest, sk, { prehash: false, format: 'der' }),
  });
  return { der, publicKey };
}

describe('PIV slot certificates', () => {
  it('builds a self-signed certificate that OpenSSL (node:crypto) verifies with its own key', async () => {
    const { der, publicKey } = await makeCert([2, 2]);
    const x = new X509Certificate(Buffer.from(der));
    expect(x.subject).toBe('O=age-plugin-yubikey\nOU=0.5.0\nCN=age identity 03acfee8');
    expect(x.issuer).toBe(x.subject);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(new Date(x.validFrom).toISOString()).toBe('2023-01-28T08:22:29.000Z');
    expect(new Date(x.validTo).getUTCFullYear()).toBe(9999);
    const jwk = x.publicKey.export({ format: 'jwk' });
    expect(jwk.crv).toBe('P-256');
    expect(Buffer.from(jwk.x!, 'base64url').toString('hex')).toBe(Buffer.from(publicKey.subarray(1, 33)).toString('hex'));
    expect(x.serialNumber).toMatch(/^[0-9A-F]{40}$/);
  });

  it('encodes the Yubico policy extension the way openssl prints it', async () => {
    const { der } = await makeCert([3, 3]);
    const text = execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-text'], { input: der }).toString();
    expect(text).toContain('1.3.6.1.4.1.41482.3.8');
    expect(text).toMatch(/1\.3\.6\.1\.4\.1\.41482\.3\.8:\s*\n\s*\.\./);
    expect(text).toContain('Not After : Dec 31 23:59:59 9999 GMT');
  });

  it('parses back subject, policy, curve and key', async () => {
    const { der, publicKey } = await makeCert([1, 3]);
    const info = parseCertificate(der);
    expect(firstAttribute(info, OID.organization)).toBe('age-plugin-yubikey');
    expect(firstAttribute(info, OID.commonName)).toBe('age identity 03acfee8');
    expect(info.subjectDn).toBe('O=age-plugin-yubikey,OU=0.5.0,CN=age identity 03acfee8');
    expect(info.policy).toEqual([1, 3]);
    expect(info.curve).toBe('P-256');
    expect(Buffer.from(info.publicKey).equals(Buffer.from(publicKey))).toBe(true);
    const none = parseCertificate((await makeCert()).der);
    expect(none.policy).toBeUndefined();
  });

  it('parses a certificate made by OpenSSL (as ykman writes foreign ones)', () => {
    const dir = execFileSync('mktemp', ['-d']).toString().trim();
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${dir}/k.pem`, '-out', `${dir}/c.der`, '-outform', 'DER', '-subj', '/CN=foreign key', '-days', '2'], { stdio: 'ignore' });
    const der = new Uint8Array(readFileSync(`${dir}/c.der`));
    const info = parseCertificate(der);
    expect(info.subjectDn).toBe('CN=foreign key');
    expect(info.curve).toBe('P-256');
    expect(info.publicKey).toHaveLength(65);
  });
});

describe('the ML-KEM seed extension (age-plugin-yubikey mlkem768p256tag)', () => {
  const PY = '/usr/bin/python3';
  const helper = new URL('../../helpers/pq_seed_cert.py', import.meta.url).pathname;
  const seed = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);
  const seedHex = Buffer.from(seed).toString('hex');
  // Extension ::= SEQUENCE { extnID OID 1.3.6.1.4.1.64829.1.1, critical TRUE, extnValue OCTET STRING { OCTET STRING (64) seed } }
  // 64829 in base 128 is 83 fa 3d.
  const expected = Buffer.concat([Buffer.from('3053' + '060a2b0601040183fa3d0101' + '0101ff' + '0442' + '0440', 'hex'), Buffer.from(seed)]);

  async function ours() {
    const sk = p256.utils.randomSecretKey();
    const publicKey = p256.getPublicKey(sk, false);
    const der = await buildSelfSignedCertificate({
      subject: [{ type: OID.commonName, value: 'age identity 1234abcd' }],
      publicKey,
      policy: [2, 2],
      mlkemSeed: seed,
      signDigest: async (digest) => p256.sign(digest, sk, { prehash: false, format: 'der' }),
    });
    return { der: Buffer.from(der), publicKey };
  }

  it('is byte for byte the hand-assembled DER, placed before the policy extension', async () => {
    const { der } = await ours();
    const at = der.indexOf(expected);
    expect(at).toBeGreaterThan(0);
    expect(der.indexOf(expected, at + 1)).toBe(-1);
    const policy = Buffer.from('060a2b0601040182c40a0308', 'hex');
    expect(der.indexOf(policy)).toBeGreaterThan(at + expected.length - 1);
  });

  it('matches what pyca/cryptography writes for the same extension, and cryptography reads ours back', async () => {
    const { der, publicKey } = await ours();
    const py = Buffer.from(execFileSync(PY, [helper, 'build', Buffer.from(publicKey).toString('hex'), seedHex]).toString().trim(), 'hex');
    expect(py.indexOf(expected)).toBeGreaterThan(0);
    const lines = execFileSync(PY, [helper, 'read', der.toString('hex')]).toString().trim().split('\n');
    expect(lines).toEqual([`1.3.6.1.4.1.64829.1.1 critical 0440${seedHex}`, '1.3.6.1.4.1.41482.3.8 regular 0202']);
    // Both directions of reading.
    expect(parseCertificate(py).mlkemSeed).toEqual(seed);
    const info = parseCertificate(der);
    expect(info.mlkemSeed).toEqual(seed);
    expect(info.policy).toEqual([2, 2]);
    expect(info.criticalExtensions).toEqual([OID.mlkemSeed]);
  });

  it('reports a malformed seed extension instead of a seed', () => {
    const pub = Buffer.from(p256.getPublicKey(p256.utils.randomSecretKey(), false)).toString('hex');
    for (const raw of ['043f' + seedHex.slice(0, 126), '0440' + seedHex + '00', '0441' + seedHex + '00', seedHex]) {
      const der = Buffer.from(execFileSync(PY, [helper, 'build', pub, seedHex, raw]).toString().trim(), 'hex');
      const info = parseCertificate(der);
      expect(info.mlkemSeed).toBeUndefined();
      expect(info.mlkemSeedError).toMatch(/64-byte OCTET STRING/);
    }
  });

  it('classic certificates carry no seed', async () => {
    const { der } = await makeCert([1, 1]);
    const info = parseCertificate(der);
    expect(info.mlkemSeed).toBeUndefined();
    expect(info.mlkemSeedError).toBeUndefined();
    expect(info.criticalExtensions).toEqual([]);
  });
});
