/**
 * Ed25519 → X25519 conversions used for ssh-to-age. The public-key form is what every other
 * module (bitwarden/, repo/) calls; ssh-to-age's line handling and private keys build on it.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bech32 } from '@scure/base';

export class KeyConversionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyConversionError';
  }
}

/** age recipient (`age1…`) of a 32-byte Ed25519 public key; throws on an invalid point. */
export function ed25519PublicKeyToAgeRecipient(pub: Uint8Array): string {
  if (pub.length !== 32) throw new KeyConversionError(`ed25519 public key must be 32 bytes, got ${pub.length}`);
  let u: Uint8Array;
  try {
    u = ed25519.utils.toMontgomery(pub);
  } catch {
    throw new KeyConversionError('cannot convert ed25519 public key to curve25519: invalid point');
  }
  return bech32.encode('age', bech32.toWords(u), 90);
}

/** The 32-byte Ed25519 key inside an OpenSSH `ssh-ed25519` wire blob. */
export function ed25519FromSshBlob(blob: Uint8Array): Uint8Array {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (blob.length < 4) throw new KeyConversionError('ssh public key blob too short');
  const tlen = dv.getUint32(0);
  if (4 + tlen + 4 > blob.length) throw new KeyConversionError('ssh public key blob truncated');
  const type = Buffer.from(blob.subarray(4, 4 + tlen)).toString('latin1');
  if (type !== 'ssh-ed25519') throw new KeyConversionError(`got ${type} key type, but only ed25519 keys are supported`);
  const klen = dv.getUint32(4 + tlen);
  if (klen !== 32 || 8 + tlen + klen !== blob.length) throw new KeyConversionError('malformed ssh-ed25519 key blob');
  return blob.subarray(8 + tlen, 8 + tlen + 32);
}

/** age recipient of one `ssh-ed25519 AAAA… [comment]` line. */
export function sshPublicKeyToAgeRecipient(line: string): string {
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== 'ssh-ed25519' || fields[1] === undefined) {
    throw new KeyConversionError('not an ssh-ed25519 public key line');
  }
  return ed25519PublicKeyToAgeRecipient(ed25519FromSshBlob(Buffer.from(fields[1], 'base64')));
}
