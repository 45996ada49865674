/**
 * The credential algorithms of the virtual authenticator, from the COSE registry (RFC 9053 /
 * RFC 8812) as WebAuthn §5.8.5 and CTAP 2.1 §6.1 use them:
 *
 *   ES256  alg -7    EC2 key  {1: 2, 3: -7, -1: 1 (P-256), -2: x, -3: y}; ECDSA over SHA-256, the
 *                    signature DER-encoded (WebAuthn §6.5.6)
 *   EdDSA  alg -8    OKP key  {1: 1, 3: -8, -1: 6 (Ed25519), -2: x}; Ed25519, the 64-byte signature
 *   RS256  alg -257  RSA key  {1: 3, 3: -257, -1: n, -2: e}; RSASSA-PKCS1-v1_5 with SHA-256 (2048 bits)
 *
 * ES256 uses the P-256 implementation of @noble/curves, EdDSA and RS256 node:crypto. The secret a
 * credential id carries is 32 bytes for every algorithm: the P-256 scalar, the Ed25519 seed, or for
 * RS256 (whose private key does not fit an id) a random handle under which the authenticator's
 * state keeps the PKCS#8 key.
 */
import { p256 } from '@noble/curves/nist.js';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

export const COSE_ES256 = -7;
export const COSE_EDDSA = -8;
export const COSE_RS256 = -257;

/** Algorithms in the authenticator's order of preference (getInfo 0x0A). */
export const ALGORITHMS = [COSE_ES256, COSE_EDDSA, COSE_RS256] as const;
export type CoseAlgorithm = (typeof ALGORITHMS)[number];

/** The byte a credential id stores for its algorithm. */
export const ALG_CODE: Record<CoseAlgorithm, number> = { [COSE_ES256]: 1, [COSE_EDDSA]: 2, [COSE_RS256]: 3 };
export const ALG_OF_CODE = new Map<number, CoseAlgorithm>(ALGORITHMS.map((a) => [ALG_CODE[a], a]));

/** The RS256 private keys of the authenticator's credentials, by handle (hex): PKCS#8 DER in base64. */
export interface RsaKeyStore {
  get(handle: string): string | undefined;
  set(handle: string, pkcs8: string): void;
}

/** PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410 §7): SEQUENCE { 0, AlgorithmIdentifier id-Ed25519, OCTET STRING { seed } }. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function ed25519Key(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

const b64u = (s: string | undefined) => Uint8Array.from(Buffer.from(s ?? '', 'base64url'));

/** A new credential key: the 32-byte secret its id carries. */
export function newCredentialSecret(alg: CoseAlgorithm, rsaKeys: RsaKeyStore): Uint8Array {
  if (alg === COSE_ES256) return p256.utils.randomSecretKey();
  const secret = new Uint8Array(randomBytes(32));
  if (alg === COSE_RS256) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
    rsaKeys.set(Buffer.from(secret).toString('hex'), privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'));
  }
  return secret;
}

function rsaKey(secret: Uint8Array, rsaKeys: RsaKeyStore): KeyObject | undefined {
  const pkcs8 = rsaKeys.get(Buffer.from(secret).toString('hex'));
  return pkcs8 === undefined ? undefined : createPrivateKey({ key: Buffer.from(pkcs8, 'base64'), format: 'der', type: 'pkcs8' });
}

/** Whether the credential's key is still there (an RS256 key whose state was lost is not). */
export function hasKey(alg: CoseAlgorithm, secret: Uint8Array, rsaKeys: RsaKeyStore): boolean {
  return alg !== COSE_RS256 || rsaKey(secret, rsaKeys) !== undefined;
}

/** The credential public key as a COSE_Key map. */
export function coseKey(alg: CoseAlgorithm, secret: Uint8Array, rsaKeys: RsaKeyStore): Map<number, unknown> {
  if (alg === COSE_ES256) {
    const pub = p256.getPublicKey(secret, false);
    return new Map<number, unknown>([
      [1, 2],
      [3, COSE_ES256],
      [-1, 1],
      [-2, pub.slice(1, 33)],
      [-3, pub.slice(33)],
    ]);
  }
  if (alg === COSE_EDDSA) {
    const jwk = createPublicKey(ed25519Key(secret)).export({ format: 'jwk' });
    return new Map<number, unknown>([
      [1, 1],
      [3, COSE_EDDSA],
      [-1, 6],
      [-2, b64u(jwk.x)],
    ]);
  }
  const jwk = createPublicKey(rsaKey(secret, rsaKeys)!).export({ format: 'jwk' });
  return new Map<number, unknown>([
    [1, 3],
    [3, COSE_RS256],
    [-1, b64u(jwk.n)],
    [-2, b64u(jwk.e)],
  ]);
}

/** The signature of `data` (authenticator data ‖ clientDataHash) with the credential key. */
export function signWith(alg: CoseAlgorithm, secret: Uint8Array, rsaKeys: RsaKeyStore, data: Uint8Array): Uint8Array {
  if (alg === COSE_ES256) return p256.sign(data, secret, { format: 'der' });
  if (alg === COSE_EDDSA) return new Uint8Array(sign(null, data, ed25519Key(secret)));
  return new Uint8Array(sign('sha256', data, rsaKey(secret, rsaKeys)!));
}
