/**
 * The native `mlkem768x25519` recipient type (C2SP age.md): software post-quantum hybrid keys,
 * `age1pq1…` (ek_PQ(1184) ‖ X25519(32)) and `AGE-SECRET-KEY-PQ-1…` (a 32-byte seed expanded with
 * SHAKE256), through our combiner. keybridge reads these keys wherever it reads keys, and uses
 * this identity to check the combiner against the published CCTV age files.
 *
 *   -> mlkem768x25519 <b64 enc, 1120 B = ct_PQ(1088) ‖ X25519 ephemeral(32)>
 *   <b64 ChaCha20-Poly1305(HPKE base(X-Wing, info "age-encryption.org/mlkem768x25519"))(file key)>
 */
import { base64nopad } from '@scure/base';
import type { Identity, Stanza as TypageStanza } from 'age-encryption';
import { hpkeOpenOnce, hpkeSealOnce } from './hpke.ts';
import { decapsulate, encapsulate, expandHybridSeed, MLKEM768_X25519, softwareDecapsulator, type ExpandedHybridKey } from './hybridKem.ts';
import type { ParsedStanza } from './mlkem768p256tag.ts';
import { decodeFixedArg, type Stanza } from './stanza.ts';

export const MLKEM768X25519_TYPE = 'mlkem768x25519';
const INFO = new TextEncoder().encode('age-encryption.org/mlkem768x25519');

export interface Mlkem768X25519Stanza {
  enc: Uint8Array;
  body: Uint8Array;
}

export function parseMlkem768X25519(s: Stanza): ParsedStanza<Mlkem768X25519Stanza> {
  if (s.type !== MLKEM768X25519_TYPE) return null;
  if (s.args.length !== 1) return { malformed: 'invalid mlkem768x25519 recipient block' };
  const enc = decodeFixedArg(s.args[0]!, MLKEM768_X25519.encSize);
  if (!enc) return { malformed: 'invalid mlkem768x25519 recipient block' };
  if (s.body.length !== 32) return { malformed: 'invalid mlkem768x25519 recipient block: body must be 32 bytes' };
  return { ok: { enc, body: s.body } };
}

export function wrapMlkem768X25519(fileKey: Uint8Array, recipient: Uint8Array, randomness?: Uint8Array): Stanza {
  if (fileKey.length !== 16) throw new RangeError('file key must be 16 bytes');
  const { enc, sharedSecret } = encapsulate(MLKEM768_X25519, recipient, randomness);
  return { type: MLKEM768X25519_TYPE, args: [base64nopad.encode(enc)], body: hpkeSealOnce(MLKEM768_X25519.id, sharedSecret, INFO, fileKey) };
}

/** Opens the stanza; null when it is not for this key. Throws on a degenerate (low-order) share. */
export async function unwrapMlkem768X25519(stanza: Mlkem768X25519Stanza, key: ExpandedHybridKey): Promise<Uint8Array | null> {
  const ss = await decapsulate(MLKEM768_X25519, stanza.enc, softwareDecapsulator(MLKEM768_X25519, key));
  return hpkeOpenOnce(MLKEM768_X25519.id, ss, INFO, stanza.body);
}

/** A typage `Identity` for a 32-byte hybrid seed: unwraps `mlkem768x25519` stanzas, rejects malformed ones. */
export function hybridIdentity(seed32: Uint8Array): Identity {
  const key = expandHybridSeed(MLKEM768_X25519, seed32);
  return {
    async unwrapFileKey(stanzas: TypageStanza[]): Promise<Uint8Array | null> {
      for (const s of stanzas) {
        const parsed = parseMlkem768X25519({ type: s.args[0] ?? '', args: s.args.slice(1), body: s.body });
        if (!parsed) continue;
        if ('malformed' in parsed) throw new Error(parsed.malformed);
        const fileKey = await unwrapMlkem768X25519(parsed.ok, key);
        if (fileKey) return fileKey;
      }
      return null;
    },
  };
}
