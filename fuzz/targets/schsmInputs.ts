/** The fixed inputs the schsm-session target's operations send (shared with its recorder). */
import { Prefix } from '../../src/tokens/schsm/constants.ts';
import { encodeEcPrkd, Usage } from '../../src/tokens/schsm/prkd.ts';

/** A fixed P-256 point (the generator) and X25519 u-coordinate as ECDH peers. */
export const PEER_P256 = Uint8Array.from(Buffer.from('046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5', 'hex'));
export const PEER_X25519 = new Uint8Array(32).fill(9);
export const PRKD = encodeEcPrkd({ label: 'age', id: Uint8Array.of(1, 2, 3, 4), usage: Usage.DERIVE, keyRef: 1, fieldSize: 256 });
/** A PIN-protected data object (where the post-quantum keys keep their seed). */
export const PQ_SEED = (Prefix.PROTECTED_DATA << 8) | 1;
