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
