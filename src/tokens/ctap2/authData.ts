/**
 * Authenticator data (WebAuthn §6.1): rpIdHash ‖ flags ‖ signCount ‖ [attested credential data]
 * ‖ [extensions], parsed with every length checked.
 */
import { decodeCborFirst } from '../../transport/cbor.ts';
import { Ctap2Error } from './errors.ts';

export const FLAG_UP = 0x01;
export const FLAG_UV = 0x04;
export const FLAG_AT = 0x40;
export const FLAG_ED = 0x80;

export interface AuthData {
  readonly raw: Uint8Array;
  readonly rpIdHash: Uint8Array;
  readonly flags: number;
  readonly signCount: number;
  readonly attested?: { readonly aaguid: Uint8Array; readonly credentialId: Uint8Array; readonly publicKey: Map<number, unknown> };
  readonly extensions?: Map<unknown, unknown>;
}

export function parseAuthData(raw: Uint8Array): AuthData {
  const bad = (why: string) => new Ctap2Error('DEVICE', `the security key sent malformed authenticator data (${why})`);
  if (raw.length < 37) throw bad('too short');
  const flags = raw[32]!;
  const signCount = new DataView(raw.buffer, raw.byteOffset + 33, 4).getUint32(0);
  let rest = raw.subarray(37);
  let attested: AuthData['attested'];
  if (flags & FLAG_AT) {
    if (rest.length < 18) throw bad('attested credential data too short');
    const aaguid = rest.slice(0, 16);
    const idLen = (rest[16]! << 8) | rest[17]!;
    if (idLen > 1023 || rest.length < 18 + idLen) throw bad('credential id length');
    const credentialId = rest.slice(18, 18 + idLen);
    let key: unknown;
    try {
      [key, rest] = decodeCborFirst(rest.subarray(18 + idLen));
    } catch {
      throw bad('credential public key');
    }
    if (!(key instanceof Map)) throw bad('credential public key is not a COSE key');
    attested = { aaguid, credentialId, publicKey: key as Map<number, unknown> };
  }
  let extensions: Map<unknown, unknown> | undefined;
  if (flags & FLAG_ED) {
    let ext: unknown;
    try {
      [ext, rest] = decodeCborFirst(rest);
    } catch {
      throw bad('extensions');
    }
    if (!(ext instanceof Map)) throw bad('extensions are not a map');
    extensions = ext;
  }
  if (rest.length) throw bad('trailing bytes');
  return { raw, rpIdHash: raw.slice(0, 32), flags, signCount, ...(attested ? { attested } : {}), ...(extensions ? { extensions } : {}) };
}
