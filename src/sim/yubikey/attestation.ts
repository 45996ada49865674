/**
 * PIV attestation on the virtual YubiKey (Yubico's ATTEST, INS F9): a certificate for a slot's
 * card-generated key, signed by the attestation key in slot F9, whose own certificate lives in
 * data object 5FFF01. Extensions as Yubico writes them: firmware version (…41482.3.3), serial
 * (…3.7), PIN/touch policy (…3.8), form factor (…3.9). The card side has its own small X.509
 * builder (shared library, not keybridge's host-side code).
 */
import { randomBytes } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { ECParameters } from '@peculiar/asn1-ecc';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  Certificate,
  Extension,
  Extensions,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';

const ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const CURVES: Record<number, string> = { 0x11: '1.2.840.10045.3.1.7', 0x14: '1.3.132.0.34' };
const X25519_OID = '1.3.101.110';

function ab(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

function name(cn: string): Name {
  return new Name([new RelativeDistinguishedName([new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ utf8String: cn }) })])]);
}

function spki(algorithm: number, pub: Uint8Array): SubjectPublicKeyInfo {
  if (algorithm === 0xe1) return new SubjectPublicKeyInfo({ algorithm: new AlgorithmIdentifier({ algorithm: X25519_OID }), subjectPublicKey: ab(pub) });
  return new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({ algorithm: EC_PUBLIC_KEY, parameters: AsnConvert.serialize(new ECParameters({ namedCurve: CURVES[algorithm]! })) }),
    subjectPublicKey: ab(pub),
  });
}

function serial(): ArrayBuffer {
  const s = new Uint8Array(randomBytes(16));
  s[0] = (s[0]! & 0x7f) | 0x01;
  return ab(s);
}

function sign(tbs: TBSCertificate, signerKey: Uint8Array): Uint8Array {
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const sig = p256.sign(sha256(tbsDer), signerKey, { prehash: false, format: 'der' });
  return new Uint8Array(AsnConvert.serialize(new Certificate({ tbsCertificate: tbs, signatureAlgorithm: new AlgorithmIdentifier({ algorithm: ECDSA_SHA256 }), signatureValue: ab(sig) })));
}

/** The self-signed certificate of the attestation key (slot F9). */
export function attestationCaCertificate(f9Key: Uint8Array): Uint8Array {
  const n = name('Yubico PIV Attestation (virtual)');
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serial(),
    signature: new AlgorithmIdentifier({ algorithm: ECDSA_SHA256 }),
    issuer: n,
    subject: n,
    validity: new Validity({ notBefore: new Date(Date.UTC(2016, 2, 14)), notAfter: new Date(Date.UTC(9999, 11, 31, 23, 59, 59)) }),
    subjectPublicKeyInfo: spki(0x11, p256.getPublicKey(f9Key, false)),
    extensions: new Extensions([
      new Extension({ extnID: '2.5.29.19', critical: true, extnValue: new OctetString(AsnConvert.serialize(new BasicConstraints({ cA: true, pathLenConstraint: 0 }))) }),
    ]),
  });
  return sign(tbs, f9Key);
}

export interface AttestedKey {
  slot: number;
  algorithm: number;
  publicKey: Uint8Array;
  pinPolicy: number;
  touchPolicy: number;
}

export function attestationCertificate(key: AttestedKey, card: { version: readonly number[]; serial: number }, f9Key: Uint8Array): Uint8Array {
  const ext = (oid: string, value: Uint8Array) => new Extension({ extnID: `1.3.6.1.4.1.41482.3.${oid}`, critical: false, extnValue: new OctetString(value) });
  const serialDer = new Uint8Array(serialInteger(card.serial));
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serial(),
    signature: new AlgorithmIdentifier({ algorithm: ECDSA_SHA256 }),
    issuer: name('Yubico PIV Attestation (virtual)'),
    subject: name(`YubiKey PIV Attestation ${key.slot.toString(16)}`),
    validity: new Validity({ notBefore: new Date(Date.UTC(2016, 2, 14)), notAfter: new Date(Date.UTC(9999, 11, 31, 23, 59, 59)) }),
    subjectPublicKeyInfo: spki(key.algorithm, key.publicKey),
    extensions: new Extensions([
      ext('3', Uint8Array.from(card.version)),
      ext('7', serialDer),
      ext('8', Uint8Array.of(key.pinPolicy, key.touchPolicy)),
      ext('9', Uint8Array.of(0x01)),
    ]),
  });
  return sign(tbs, f9Key);
}

/** DER INTEGER of a non-negative number. */
function serialInteger(n: number): ArrayBuffer {
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return ab(Uint8Array.of(0x02, bytes.length, ...bytes));
}
