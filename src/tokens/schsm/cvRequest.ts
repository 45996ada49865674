/**
 * The CV (card verifiable, BSI TR-03110) objects the SmartCard-HSM speaks: the key-generation
 * command data (a certificate body naming the curve by its domain parameters) and the
 * authenticated request `67 { 7F21 { 7F4E body, 5F37 }, 42, 5F37 }` it answers with and keeps in
 * EF CE<id>, from which a key's public part is read. Parsing is strict and bounded by the TLV layer.
 */
import { p256 } from '@noble/curves/nist.js';
import { concatBytes, parseTlvs, readTlv, tlv, tlvMap, TlvError } from '../../transport/tlv.ts';
import { ScHsmError } from './errors.ts';

export type Curve = 'p256' | 'x25519';

/** id-TA-ECDSA-SHA-256: the OID key generation requests carry for every EC curve. */
const OID_TA_ECDSA_SHA256 = Uint8Array.of(0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x02, 0x02, 0x03);

function bigBytes(n: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}

// The curve's constants are read on first use: @noble builds the curve when its module first runs.
const P = () => p256.Point.CURVE();
let p256Prime: Uint8Array | undefined;
const P256_PRIME = () => (p256Prime ??= bigBytes(P().p, 32));
const X25519_PRIME = bigBytes(2n ** 255n - 19n, 32);
const X25519_ORDER = bigBytes(2n ** 252n + 0x14def9dea2f79cd65812631a5cf5d3edn, 32);

function domainParameters(curve: Curve): Uint8Array {
  if (curve === 'p256') {
    return concatBytes(
      tlv(0x81, P256_PRIME()),
      tlv(0x82, bigBytes(P().a, 32)),
      tlv(0x83, bigBytes(P().b, 32)),
      tlv(0x84, p256.Point.BASE.toBytes(false)),
      tlv(0x85, bigBytes(P().n, 32)),
      tlv(0x87, Uint8Array.of(1)),
    );
  }
  // Curve25519: prime, order, and the base point u = 9 in RFC 7748 encoding (first byte 09 = X25519).
  const g = new Uint8Array(32);
  g[0] = 9;
  return concatBytes(tlv(0x81, X25519_PRIME), tlv(0x82, X25519_ORDER), tlv(0x83, g));
}

const ascii = (s: string) => new TextEncoder().encode(s);

/**
 * GENERATE ASYMMETRIC KEY PAIR command data: `5F29 00, 42 CAR, 7F49 { OID, domain parameters },
 * 5F20 CHR` and, when given, the algorithms the key may be used for (`91`).
 */
export function keyGenerationData(curve: Curve, opts: { car: string; chr: string; algorithms?: readonly number[] }): Uint8Array {
  const parts = [
    tlv(0x5f29, Uint8Array.of(0)),
    tlv(0x42, ascii(opts.car)),
    tlv(0x7f49, concatBytes(tlv(0x06, OID_TA_ECDSA_SHA256), domainParameters(curve))),
    tlv(0x5f20, ascii(opts.chr)),
  ];
  if (opts.algorithms?.length) parts.push(tlv(0x91, Uint8Array.from(opts.algorithms)));
  return concatBytes(...parts);
}

export interface CvPublicKey {
  /** null when the curve is neither P-256 nor X25519 (RSA, other curves). */
  curve: Curve | null;
  /** P-256: 65-byte uncompressed point; X25519: 32 bytes. Empty for other key kinds. */
  publicKey: Uint8Array;
  /** Certification authority reference and certificate holder reference of the body. */
  car: string;
  chr: string;
}

const equal = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

/** Reads the public key from an authenticated request (`67`), a request or a certificate (`7F21`). */
export function parseCvObject(data: Uint8Array): CvPublicKey {
  try {
    let cert = data;
    if (data[0] === 0x67) {
      const inner = parseTlvs(unwrapTlvPrefix(data, 0x67));
      const c = inner.find((t) => t.tag === 0x7f21);
      if (!c) throw new TlvError('no certificate in the request');
      cert = tlv(0x7f21, c.value);
    }
    const certFields = tlvMap(unwrapTlvPrefix(cert, 0x7f21));
    const body = certFields.get(0x7f4e);
    if (!body) throw new TlvError('no certificate body');
    const fields = tlvMap(body);
    const pub = fields.get(0x7f49);
    if (!pub) throw new TlvError('no public key');
    const k = tlvMap(pub);
    const text = (t: number) => new TextDecoder().decode(fields.get(t) ?? new Uint8Array(0));
    const base = { car: text(0x42), chr: text(0x5f20) };
    const point = k.get(0x86);
    if (point && equal(k.get(0x81), P256_PRIME())) {
      if (point.length !== 65 || point[0] !== 0x04) throw new TlvError('malformed P-256 point');
      p256.Point.fromBytes(point);
      return { ...base, curve: 'p256', publicKey: Uint8Array.from(point) };
    }
    const u = k.get(0x84);
    if (!point && u && equal(k.get(0x81), X25519_PRIME) && k.get(0x83)?.[0] === 9) {
      if (u.length !== 32) throw new TlvError('malformed X25519 key');
      return { ...base, curve: 'x25519', publicKey: Uint8Array.from(u) };
    }
    return { ...base, curve: null, publicKey: new Uint8Array(0) };
  } catch (cause) {
    if (cause instanceof ScHsmError) throw cause;
    throw new ScHsmError('CARD', `The device returned a malformed public key object (${(cause as Error).message})`, { cause });
  }
}

/** The value of the TLV with `tag` at the start of `data` (trailing bytes ignored: files may be padded). */
function unwrapTlvPrefix(data: Uint8Array, tag: number): Uint8Array {
  const { tlv: t } = readTlv(data, 0);
  if (t.tag !== tag) throw new TlvError(`expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t.value;
}
