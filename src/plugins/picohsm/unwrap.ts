/**
 * Decryption with a key on a Pico HSM. Three stanza types open with the same device key:
 *
 * - `picohsm` (pinpox's plugin, P-256): matched by the 8-byte fingerprint, or tried when absent;
 * - `p256tag` (native age ≥ 1.3 `age1tag1…`, P-256): matched by its 4-byte tag;
 * - `X25519` (native `age1…`, X25519 keys): no tag, so every one is tried with a device ECDH;
 * - `mlkem768p256tag` (native `age1tagpq1…`, post-quantum P-256 keys): matched by its 4-byte tag;
 *   the ML-KEM half runs in software from the seed in the key's PIN-protected data object.
 *
 * What can be decided without the device (the stanza type against the key type the identity
 * names) is decided in `fitsIdentity`; the fingerprint and tag checks need the key's public part,
 * which the device gives without a PIN, so the PIN is asked only when a stanza matches.
 */
import { loadTagPqKeys, mlkem768P256TagMatches, parseMlkem768P256Tag, tagPqStaticTag, type Mlkem768P256TagStanza } from '../../age/mlkem768p256tag.ts';
import { bytesEqual, compressP256 } from '../../age/p256.ts';
import { parseP256Tag, P256TAG_TYPE, p256TagMatches, unwrapP256Tag, type P256TagStanza } from '../../age/p256tag.ts';
import { parseX25519, unwrapX25519WithEcdh, X25519_TYPE, type X25519Stanza } from '../../age/x25519.ts';
import type { ScHsmSession } from '../../tokens/schsm/session.ts';
import { describeSlot, type PicoHsmIdentity } from './identity.ts';
import { readPqSeed, type AgeKey } from './keys.ts';
import { PicoHsmError } from './errors.ts';
import { parsePicoHsm, picoHsmMatches, PICOHSM_TYPE, unwrapPicoHsm, type PicoHsmStanza, type StanzaParts } from './stanza.ts';

export type ParsedStanza =
  | { kind: 'picohsm'; stanza: PicoHsmStanza }
  | { kind: 'tag'; stanza: P256TagStanza }
  | { kind: 'x25519'; stanza: X25519Stanza }
  | { kind: 'tagpq'; stanza: Mlkem768P256TagStanza };

/** The stanza types this family reads. */
export const STANZA_TYPES = [PICOHSM_TYPE, P256TAG_TYPE, X25519_TYPE] as const;

/**
 * Parses a stanza this family can open; null for other types (and for malformed native stanzas,
 * which other identities may still own). A malformed `picohsm` stanza throws.
 */
export function parseStanza(s: StanzaParts): ParsedStanza | null {
  if (s.type === PICOHSM_TYPE) return { kind: 'picohsm', stanza: parsePicoHsm(s)! };
  if (s.type === P256TAG_TYPE) {
    const stanza = parseP256Tag(s.type, s.args, s.body);
    return stanza ? { kind: 'tag', stanza } : null;
  }
  if (s.type === X25519_TYPE) {
    const stanza = parseX25519(s.type, s.args, s.body);
    return stanza ? { kind: 'x25519', stanza } : null;
  }
  const pq = parseMlkem768P256Tag(s);
  return pq && 'ok' in pq ? { kind: 'tagpq', stanza: pq.ok } : null;
}

/** Device-free check: the stanza's type fits the key type the identity names. */
export function fitsIdentity(identity: PicoHsmIdentity, parsed: ParsedStanza): boolean {
  const { keyType, pq } = describeSlot(identity.slot);
  if (keyType === 'x25519') return parsed.kind === 'x25519';
  // A post-quantum identity opens only post-quantum stanzas, and only it does.
  return pq ? parsed.kind === 'tagpq' : parsed.kind !== 'x25519' && parsed.kind !== 'tagpq';
}

/** Whether the stanza may be for this key (fingerprint or tag; X25519 stanzas always may). */
export function mayBeFor(key: AgeKey, parsed: ParsedStanza): boolean {
  switch (parsed.kind) {
    case 'picohsm':
      return key.curve === 'p256' && picoHsmMatches(parsed.stanza, key.publicKey);
    case 'tag':
      return key.curve === 'p256' && p256TagMatches(parsed.stanza, compressP256(key.publicKey));
    case 'x25519':
      return key.curve === 'x25519';
    case 'tagpq':
      return key.curve === 'p256' && key.pq !== undefined && mlkem768P256TagMatches(parsed.stanza, tagPqStaticTag(key.publicKey));
  }
}

export interface UnwrapHooks {
  /** Makes sure the PIN is verified (asks the user only when needed). Called at most once, and only when a stanza may be for the key. */
  verifyPin(): Promise<void>;
  /** Before each device ECDH on a device with the press-to-confirm button. */
  beforeEcdh?(): Promise<void>;
}

/** Unwraps each stanza with `key` on the device: the file key, or null where the stanza is not for it. */
export async function unwrapWithKey(session: ScHsmSession, key: AgeKey, stanzas: readonly ParsedStanza[], hooks: UnwrapHooks): Promise<Array<Uint8Array | null>> {
  const out: Array<Uint8Array | null> = stanzas.map(() => null);
  const candidates = stanzas.map((s, i) => [s, i] as const).filter(([s]) => mayBeFor(key, s));
  if (candidates.length === 0) return out;
  await hooks.verifyPin();
  const ecdh = async (peer: Uint8Array) => {
    await hooks.beforeEcdh?.();
    return session.ecdh(key.keyId, peer);
  };
  let pqKey: import('../../age/mlkem768p256tagKey.ts').TagPqKey | undefined;
  for (const [s, i] of candidates) {
    if (s.kind === 'picohsm') out[i] = await unwrapPicoHsm(s.stanza, key.publicKey, ecdh);
    else if (s.kind === 'tag') out[i] = await unwrapP256Tag(s.stanza, compressP256(key.publicKey), ecdh);
    else if (s.kind === 'x25519') out[i] = await unwrapX25519WithEcdh(s.stanza, key.publicKey, ecdh);
    else {
      // ML-KEM is loaded, and the seed read (after the PIN), only when a stanza's tag names this key.
      const m = await loadTagPqKeys();
      if (!pqKey) {
        const seed = await readPqSeed(session, key.keyId);
        try {
          pqKey = m.tagPqKey(seed, key.publicKey);
        } finally {
          seed.fill(0);
        }
        if (!bytesEqual(pqKey.recipient.subarray(0, 1184), key.pq!.encapsulationKey)) {
          throw new PicoHsmError('INVALID_IDENTITY', `The ML-KEM seed and public key stored with key ${key.keyId} disagree; the post-quantum key cannot be used`);
        }
      }
      out[i] = await m.unwrapMlkem768P256Tag(s.stanza, pqKey, ecdh);
    }
  }
  return out;
}
