/**
 * Card verifiable certificates and requests as the SmartCard-HSM writes them (BSI TR-03110 as
 * profiled by the SmartCard-HSM): the key-generation response is an authenticated request
 * `67 { 7F21 { 7F4E body, 5F37 inner signature }, 42 outer CAR, 5F37 outer signature }`, the body
 * `5F29 CPI, 42 CAR, 7F49 public key, 5F20 CHR`. Weierstrass public keys carry the domain
 * parameters and the point (`81` p, `82` a, `83` b, `84` G, `85` n, `86` Q, `87` h); Montgomery
 * keys `81` p, `82` order, `83` G.x, `84` the 32-byte public key. Signatures are raw r ‖ s ECDSA
 * over SHA-256 of the signed content.
 *
 * Card side only: the host side parses these in tokens/ with its own code.
 */
import { p256 } from '@noble/curves/nist.js';
import { concatBytes, tlv } from '../../transport/tlv.ts';

const ascii = (s: string) => new TextEncoder().encode(s);
const be = (n: bigint, len: number) => {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
};

/** id-TA-ECDSA-SHA-256 (0.4.0.127.0.7.2.2.2.2.3): EC keys, and what key generation requests name. */
export const OID_TA_ECDSA_SHA256 = Uint8Array.of(0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x02, 0x02, 0x03);
/** id-RI-ECDH-SHA-256 (0.4.0.127.0.7.2.2.5.2.3): how Montgomery (DH-only) public keys are labelled. */
export const OID_RI_ECDH_SHA256 = Uint8Array.of(0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x05, 0x02, 0x03);

const P256 = p256.Point.CURVE();
export const P256_PRIME = be(P256.p, 32);
export const CURVE25519_PRIME = be((1n << 255n) - 19n, 32);
const CURVE25519_ORDER = be((1n << 252n) + 27742317777372353535851937790883648493n, 32);
/** The X25519 base point u = 9 in RFC 7748 (little-endian) encoding. */
const CURVE25519_GX = (() => {
  const g = new Uint8Array(32);
  g[0] = 9;
  return g;
})();

export type CurveName = 'p256' | 'x25519';

/** The `7F49` public key object for a key of `curve` with public key `pub`. */
export function publicKeyObject(curve: CurveName, pub: Uint8Array): Uint8Array {
  if (curve === 'p256') {
    const g = p256.Point.BASE.toBytes(false);
    return tlv(
      0x7f49,
      concatBytes(
        tlv(0x06, OID_TA_ECDSA_SHA256),
        tlv(0x81, P256_PRIME),
        tlv(0x82, be(P256.a, 32)),
        tlv(0x83, be(P256.b, 32)),
        tlv(0x84, g),
        tlv(0x85, be(P256.n, 32)),
        tlv(0x86, pub),
        tlv(0x87, Uint8Array.of(P256.h ? Number(P256.h) : 1)),
      ),
    );
  }
  return tlv(0x7f49, concatBytes(tlv(0x06, OID_RI_ECDH_SHA256), tlv(0x81, CURVE25519_PRIME), tlv(0x82, CURVE25519_ORDER), tlv(0x83, CURVE25519_GX), tlv(0x84, pub)));
}

export function certificateBody(car: string, pubkeyObject: Uint8Array, chr: string): Uint8Array {
  return tlv(0x7f4e, concatBytes(tlv(0x5f29, Uint8Array.of(0)), tlv(0x42, ascii(car)), pubkeyObject, tlv(0x5f20, ascii(chr))));
}

function ecdsa(content: Uint8Array, signer: Uint8Array): Uint8Array {
  return p256.sign(content, signer);
}

/**
 * A certificate `7F21 { body, 5F37 signature }`. `signer` is a P-256 scalar; without one (keys
 * that cannot sign, such as X25519) the signature object is empty.
 */
export function certificate(body: Uint8Array, signer: Uint8Array | null): Uint8Array {
  return tlv(0x7f21, concatBytes(body, tlv(0x5f37, signer ? ecdsa(body, signer) : new Uint8Array(0))));
}

/** An authenticated request `67 { certificate, 42 outer CAR, 5F37 outer signature }`. */
export function authenticatedRequest(cert: Uint8Array, outerCar: string, outerSigner: Uint8Array): Uint8Array {
  const signed = concatBytes(cert, tlv(0x42, ascii(outerCar)));
  return tlv(0x67, concatBytes(signed, tlv(0x5f37, ecdsa(signed, outerSigner))));
}
