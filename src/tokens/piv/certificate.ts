/**
 * X.509 certificates in PIV slots: building a self-signed certificate whose signature the card
 * computes (ECDSA P-256 with SHA-256 over the TBS), and reading back subject, validity, public key,
 * the Yubico PIN/touch policy extension (OID 1.3.6.1.4.1.41482.3.8) and the ML-KEM-768 seed of a
 * post-quantum key (OID 1.3.6.1.4.1.64829.1.1, critical, extnValue = DER OCTET STRING of the 64-byte
 * seed d ‖ z, as age-plugin-yubikey's `mlkem768p256tag` support stores it).
 */
import { randomBytes } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { ECParameters } from '@peculiar/asn1-ecc';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
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

export const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  commonName: '2.5.4.3',
  yubicoPolicy: '1.3.6.1.4.1.41482.3.8',
  /** ML-KEM-768 seed of a `mlkem768p256tag` key (assigned in C2SP/C2SP PR #236). */
  mlkemSeed: '1.3.6.1.4.1.64829.1.1',
} as const;

export const MLKEM_SEED_BYTES = 64;

const SHORT_NAMES: Record<string, string> = {
  [OID.organization]: 'O',
  [OID.organizationalUnit]: 'OU',
  [OID.commonName]: 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
};

export interface NameAttribute {
  type: string;
  value: string;
}

export interface SelfSignedCertificateRequest {
  /** Subject (and issuer) attributes, each its own RDN, in order. */
  subject: NameAttribute[];
  /** Uncompressed P-256 point of the slot's key. */
  publicKey: Uint8Array;
  /** Yubico policy extension value `[pin, touch]` policy bytes, if wanted. */
  policy?: readonly [number, number];
  /** 64-byte ML-KEM-768 seed stored in the critical seed extension (before the policy extension). */
  mlkemSeed?: Uint8Array;
  notBefore?: Date;
  notAfter?: Date;
  /** Signs a SHA-256 digest with the slot's key (on the card); returns a DER ECDSA signature. */
  signDigest(digest: Uint8Array): Promise<Uint8Array>;
}

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

function buildName(attrs: NameAttribute[]): Name {
  return new Name(attrs.map((a) => new RelativeDistinguishedName([new AttributeTypeAndValue({ type: a.type, value: new AttributeValue({ utf8String: a.value }) })])));
}

export async function buildSelfSignedCertificate(req: SelfSignedCertificateRequest): Promise<Uint8Array> {
  const serial = new Uint8Array(randomBytes(20));
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, minimal 20-byte INTEGER
  const name = buildName(req.subject);
  const sigAlg = new AlgorithmIdentifier({ algorithm: OID.ecdsaWithSha256 });
  const exts: Extension[] = [];
  if (req.mlkemSeed) {
    if (req.mlkemSeed.length !== MLKEM_SEED_BYTES) throw new RangeError('the ML-KEM-768 seed is 64 bytes');
    const value = new Uint8Array(AsnConvert.serialize(new OctetString(req.mlkemSeed)));
    exts.push(new Extension({ extnID: OID.mlkemSeed, critical: true, extnValue: new OctetString(value) }));
  }
  if (req.policy) exts.push(new Extension({ extnID: OID.yubicoPolicy, critical: false, extnValue: new OctetString(Uint8Array.from(req.policy)) }));
  const extensions = exts.length ? new Extensions(exts) : undefined;
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: toArrayBuffer(serial),
    signature: sigAlg,
    issuer: name,
    validity: new Validity({
      notBefore: req.notBefore ?? new Date(),
      // Years after 2049 are encoded as GeneralizedTime (99991231235959Z), before as UTCTime.
      notAfter: req.notAfter ?? new Date(Date.UTC(9999, 11, 31, 23, 59, 59)),
    }),
    subject: name,
    subjectPublicKeyInfo: new SubjectPublicKeyInfo({
      algorithm: new AlgorithmIdentifier({
        algorithm: OID.ecPublicKey,
        parameters: AsnConvert.serialize(new ECParameters({ namedCurve: OID.prime256v1 })),
      }),
      subjectPublicKey: toArrayBuffer(req.publicKey),
    }),
    ...(extensions ? { extensions } : {}),
  });
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const signature = await req.signDigest(sha256(tbsDer));
  const cert = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: sigAlg, signatureValue: toArrayBuffer(signature) });
  return new Uint8Array(AsnConvert.serialize(cert));
}

export interface CertificateInfo {
  subject: NameAttribute[];
  /** e.g. `O=age-plugin-yubikey,OU=0.5.0,CN=age identity 03acfee8`. */
  subjectDn: string;
  notBefore: Date;
  /** `P-256` / `P-384` for EC keys, else undefined. */
  curve?: 'P-256' | 'P-384';
  /** The subject public key bytes (uncompressed point for EC). */
  publicKey: Uint8Array;
  /** The Yubico policy extension `[pin, touch]`, when present exactly once with >= 2 bytes. */
  policy?: readonly [number, number];
  /** The 64-byte ML-KEM-768 seed, when the seed extension is present exactly once and well formed. */
  mlkemSeed?: Uint8Array;
  /** Why a present seed extension is unusable (duplicated, or not a 64-byte OCTET STRING). */
  mlkemSeedError?: string;
  /** OIDs of all critical extensions. */
  criticalExtensions: string[];
}

/** The seed from the extension's value: a DER OCTET STRING of exactly 64 bytes, nothing after it. */
function parseSeedValue(v: Uint8Array): Uint8Array | null {
  // 04 40 <64 bytes>: the only DER encoding of a 64-byte OCTET STRING.
  if (v.length !== 2 + MLKEM_SEED_BYTES || v[0] !== 0x04 || v[1] !== MLKEM_SEED_BYTES) return null;
  return v.slice(2);
}

export function parseCertificate(der: Uint8Array): CertificateInfo {
  const cert = AsnConvert.parse(der, Certificate);
  const tbs = cert.tbsCertificate;
  const subject: NameAttribute[] = [];
  for (const rdn of tbs.subject) for (const atv of rdn) subject.push({ type: atv.type, value: atv.value.toString() });
  const spki = tbs.subjectPublicKeyInfo;
  let curve: CertificateInfo['curve'];
  if (spki.algorithm.algorithm === OID.ecPublicKey && spki.algorithm.parameters) {
    const params = AsnConvert.parse(spki.algorithm.parameters, ECParameters);
    if (params.namedCurve === OID.prime256v1) curve = 'P-256';
    else if (params.namedCurve === OID.secp384r1) curve = 'P-384';
  }
  const policyExts = (tbs.extensions ?? []).filter((e) => e.extnID === OID.yubicoPolicy);
  let policy: CertificateInfo['policy'];
  if (policyExts.length === 1) {
    const v = new Uint8Array(policyExts[0]!.extnValue.buffer);
    if (v.length >= 2) policy = [v[0]!, v[1]!];
  }
  const seedExts = (tbs.extensions ?? []).filter((e) => e.extnID === OID.mlkemSeed);
  let mlkemSeed: Uint8Array | null = null;
  let mlkemSeedError: string | undefined;
  if (seedExts.length > 1) mlkemSeedError = 'the ML-KEM seed extension appears more than once';
  else if (seedExts.length === 1) {
    mlkemSeed = parseSeedValue(new Uint8Array(seedExts[0]!.extnValue.buffer));
    // Read whether or not it is marked critical, as age-plugin-yubikey reads it.
    if (!mlkemSeed) mlkemSeedError = 'the ML-KEM seed extension does not hold a 64-byte OCTET STRING';
  }
  return {
    subject,
    subjectDn: subject.map((a) => `${SHORT_NAMES[a.type] ?? a.type}=${a.value}`).join(','),
    notBefore: tbs.validity.notBefore.getTime(),
    ...(curve ? { curve } : {}),
    publicKey: new Uint8Array(spki.subjectPublicKey),
    ...(policy ? { policy } : {}),
    ...(mlkemSeed ? { mlkemSeed } : {}),
    ...(mlkemSeedError ? { mlkemSeedError } : {}),
    criticalExtensions: (tbs.extensions ?? []).filter((e) => e.critical).map((e) => e.extnID),
  };
}

export function firstAttribute(info: CertificateInfo, type: string): string | undefined {
  return info.subject.find((a) => a.type === type)?.value;
}
