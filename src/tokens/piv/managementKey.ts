/**
 * PIV management-key block encryption for mutual authentication (one ECB block; TDES 3-key EDE
 * or AES-128/192/256), through node:crypto (loaded on first use: a session that never
 * authenticates with the management key does not load it).
 */
import { nodeCrypto } from '../../nodeCrypto.ts';
import { MgmtKeyAlgorithm } from './constants.ts';
import { PivError } from './errors.ts';

export interface MgmtKeySpec {
  cipher: string;
  keyLength: number;
  blockSize: number;
}

export function mgmtKeySpec(alg: MgmtKeyAlgorithm): MgmtKeySpec {
  switch (alg) {
    case MgmtKeyAlgorithm.Tdes:
      return { cipher: 'des-ede3', keyLength: 24, blockSize: 8 };
    case MgmtKeyAlgorithm.Aes128:
      return { cipher: 'aes-128-ecb', keyLength: 16, blockSize: 16 };
    case MgmtKeyAlgorithm.Aes192:
      return { cipher: 'aes-192-ecb', keyLength: 24, blockSize: 16 };
    case MgmtKeyAlgorithm.Aes256:
      return { cipher: 'aes-256-ecb', keyLength: 32, blockSize: 16 };
    default:
      throw new PivError('NOT_SUPPORTED', `Unsupported management key algorithm 0x${(alg as number).toString(16)}`);
  }
}

export function mgmtKeyAlgorithmName(alg: MgmtKeyAlgorithm): string {
  return { [MgmtKeyAlgorithm.Tdes]: 'TDES', [MgmtKeyAlgorithm.Aes128]: 'AES-128', [MgmtKeyAlgorithm.Aes192]: 'AES-192', [MgmtKeyAlgorithm.Aes256]: 'AES-256' }[alg] ?? 'unknown';
}

function block(encrypt: boolean, alg: MgmtKeyAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array {
  const spec = mgmtKeySpec(alg);
  if (key.length !== spec.keyLength) throw new PivError('BAD_INPUT', `A ${mgmtKeyAlgorithmName(alg)} management key is ${spec.keyLength} bytes`);
  if (data.length !== spec.blockSize) throw new PivError('BAD_INPUT', 'management key challenge has the wrong size');
  const { createCipheriv, createDecipheriv } = nodeCrypto();
  const c = encrypt ? createCipheriv(spec.cipher, key, null) : createDecipheriv(spec.cipher, key, null);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

export const encryptBlock = (alg: MgmtKeyAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array => block(true, alg, key, data);
export const decryptBlock = (alg: MgmtKeyAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array => block(false, alg, key, data);

export function randomChallenge(alg: MgmtKeyAlgorithm): Uint8Array {
  return new Uint8Array(nodeCrypto().randomBytes(mgmtKeySpec(alg).blockSize));
}

export function randomMgmtKey(alg: MgmtKeyAlgorithm): Uint8Array {
  return new Uint8Array(nodeCrypto().randomBytes(mgmtKeySpec(alg).keyLength));
}
