/**
 * The Pico HSM family on the plugin kit: `age1picohsm1…` recipients (65-byte P-256 points),
 * `AGE-PLUGIN-PICOHSM-1…` identities (pinpox's layout, our device tag and key type in its slot
 * word), `picohsm`, `p256tag` and `X25519` stanzas, Pico HSMs found among the PC/SC readers by
 * the tag an identity names (pinpox identities: whichever device holds the key), and the card
 * operation: the key's public part read without a PIN, the PIN asked only when a stanza may be for
 * the key, ECDH on the device behind its press-to-confirm button.
 *
 * Stanzas are shared between identities (`sharedStanzas`): fingerprints and tags are over public
 * keys only the device holds, and X25519 stanzas have none, so only the device tells them apart.
 */
import type { Stanza } from '../../age/stanza.ts';
import { TokenError } from '../../tokens/errors.ts';
import { PIN_MAX, PIN_MIN } from '../../tokens/schsm/constants.ts';
import { ScHsmError } from '../../tokens/schsm/errors.ts';
import { lazyReaders, type CardReaders } from '../../transport/readers.ts';
import { MALFORMED, NOT_FOR_THIS, type DeviceAccess, type DeviceRef, type KitTexts, type OpenDevice, type PinTarget, type TokenContext, type TokenFamily } from '../kit/family.ts';
import type { PicoHsm } from './devices.ts';
import { PicoHsmError } from './errors.ts';
import { decodeIdentityData, describeSlot, type PicoHsmIdentity } from './identity.ts';
import { findKey, readAgeKeys, tagPqRecipientBytes, type AgeKey } from './keys.ts';
import { POSTQUANTUM } from '../../age/labels.ts';
import { loadTagPqKeys, wrapTagPqLoaded } from '../../age/mlkem768p256tag.ts';
import { parseRecipientBytes } from './recipient.ts';
import { wrapPicoHsm } from './stanza.ts';
import { S, PLUGIN_NAME, SKIP_NOT_FOUND_ENV } from './strings.ts';
import { fitsIdentity, mayBeFor, parseStanza, unwrapWithKey, type ParsedStanza } from './unwrap.ts';

/** The kit's view of the family's texts (strings.ts uses the kit's names). */
export const TEXTS: KitTexts = { ...S, unavailable: S.pcscdNotRunning };

/** An open Pico HSM for one run, with its age keys read once. */
export interface PicoHsmDevice extends OpenDevice {
  hsm: PicoHsm;
  keys: AgeKey[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** How texts name the device an identity lives on (before it is found, only the key is known). */
function keyPhrase(id: PicoHsmIdentity): string {
  return id.label !== '' ? `with key "${id.label.slice(0, 64)}"` : `with key id ${hex(id.keyId).slice(0, 64)}`;
}

/**
 * The device an identity names. Identities we write carry a device tag: only that device will do.
 * pinpox's (slot 0) name none: any Pico HSM holding the key.
 */
export function deviceRefOf(id: PicoHsmIdentity): DeviceRef {
  const { deviceTag } = describeSlot(id.slot);
  const lookup = id.label !== '' ? `label:${id.label}` : `id:${hex(id.keyId)}`;
  return { key: deviceTag === null ? `any|${lookup}` : `tag:${deviceTag.toString(16).padStart(6, '0')}`, label: keyPhrase(id) };
}

/** The PIN of the SmartCard-HSM application as the kit's PIN loop drives it. */
export function scHsmPin(hsm: PicoHsm): PinTarget {
  return {
    async status() {
      const s = await hsm.session.pinStatus();
      if (!s.initialised) throw new ScHsmError('NOT_INITIALISED', S.uninitialised(hsm.reader));
      return s.verified ? { verified: true } : { verified: false, retriesLeft: s.retriesLeft };
    },
    verify: (pin) => hsm.session.verifyPin(pin),
    check(pin) {
      const n = new TextEncoder().encode(pin).length;
      return n < PIN_MIN || n > PIN_MAX ? S.pinLength : null;
    },
  };
}

/**
 * Device access: each `open` scans the readers for the Pico HSM the reference names. With no such
 * device but an uninitialised one present, that one's single clear message is the answer.
 */
export function picoHsmDevices(readers: CardReaders, release: () => Promise<void>): DeviceAccess<PicoHsmDevice> {
  return {
    async open(ref, log) {
      // The SmartCard-HSM session code loads with the first device: a wrap (recipient-v1) needs none.
      const { listPicoHsms } = await import('./devices.ts');
      const all = await listPicoHsms(readers, log);
      let found: PicoHsmDevice | null = null;
      let uninitialised: PicoHsm | null = null;
      for (const hsm of all) {
        if (!found && hsm.initialised) {
          const fits = ref.key.startsWith('tag:') ? hsm.tag === parseInt(ref.key.slice(4), 16) : true;
          if (fits) {
            const keys = await readAgeKeys(hsm.session);
            const wanted = ref.key.startsWith('any|') ? ref.key.slice(4) : null;
            const holds = wanted === null || keys.some((k) => (wanted.startsWith('label:') ? k.label === wanted.slice(6) : k.pkcsId !== null && hex(k.pkcsId) === wanted.slice(3)));
            if (holds) {
              found = { hsm, keys, close: () => hsm.close(), get operations() { return hsm.session.apduCount; } };
              continue;
            }
          }
        }
        if (!hsm.initialised) uninitialised ??= hsm;
        await hsm.close();
      }
      if (!found && uninitialised) throw new ScHsmError('NOT_INITIALISED', S.uninitialised(uninitialised.reader));
      if (found) log?.(`${found.hsm.reader}: Pico HSM ${found.hsm.serial} ${ref.label}`);
      return found;
    },
    release,
  };
}

export function picoHsmFamily(deps: { readers: () => Promise<CardReaders> }): TokenFamily<PicoHsmIdentity, ParsedStanza, Uint8Array, PicoHsmDevice> {
  return {
    name: PLUGIN_NAME,
    texts: TEXTS,
    skipNotFoundEnv: SKIP_NOT_FOUND_ENV,
    sharedStanzas: true,

    parseRecipient: parseRecipientBytes,
    parseIdentity: decodeIdentityData,
    // A post-quantum recipient (1249 bytes) only comes from recipientOf, which loads ML-KEM first.
    wrap: (fileKey, r) => [r.length === 65 ? wrapPicoHsm(fileKey, r) : wrapTagPqLoaded(fileKey, r)],
    labels: (recipients) => (recipients.length > 0 && recipients.every((r) => r.length !== 65) ? [POSTQUANTUM] : []),

    async recipientOf(identity, devices, log) {
      const ref = deviceRefOf(identity);
      const d = await devices.open(ref, log);
      if (!d) throw new PicoHsmError('INVALID_IDENTITY', S.openFailed(ref.label));
      try {
        const key = findKey(d.keys, identity);
        if (!key) throw new PicoHsmError('INVALID_IDENTITY', S.keyNotFound(ref.label.replace(/^with key /, ''), d.hsm.serial ?? d.hsm.reader));
        if (key.curve !== 'p256') throw new PicoHsmError('INVALID_IDENTITY', S.x25519NoPluginRecipient);
        const pq = tagPqRecipientBytes(key);
        if (pq) await loadTagPqKeys();
        return pq ?? key.publicKey;
      } finally {
        await d.close().catch(() => undefined);
      }
    },

    parseStanza(st: Stanza) {
      try {
        return parseStanza(st);
      } catch (e) {
        if (e instanceof PicoHsmError) return MALFORMED;
        throw e;
      }
    },
    matches: fitsIdentity,
    deviceOf: deviceRefOf,
    devices() {
      const readers = lazyReaders(deps.readers);
      return picoHsmDevices(readers, () => readers.close());
    },
    unwrap: unwrapOnDevice,
    describeError(e, device) {
      if (e instanceof ScHsmError && e.code === 'TOUCH_TIMEOUT') return S.touchTimeout(device.label);
      if (e instanceof ScHsmError && e.code === 'CARD_REMOVED') return S.removed(device.label);
      if (e instanceof PicoHsmError || e instanceof TokenError) return e.message;
      return undefined;
    },
  };
}

/** The card operation: the identity's key, the PIN once a stanza may be for it, ECDH per stanza. */
async function unwrapOnDevice(d: PicoHsmDevice, identity: PicoHsmIdentity, stanzas: ParsedStanza[], ctx: TokenContext): Promise<Array<Uint8Array | null | typeof NOT_FOR_THIS>> {
  const key = findKey(d.keys, identity);
  if (!key) throw new PicoHsmError('INVALID_IDENTITY', S.keyNotFound(keyPhrase(identity).replace(/^with key /, ''), d.hsm.serial ?? d.hsm.reader));
  const results = await unwrapWithKey(d.hsm.session, key, stanzas, {
    verifyPin: () => ctx.verifyPin(scHsmPin(d.hsm), { once: true }),
    ...(d.hsm.info.button ? { beforeEcdh: () => ctx.touch() } : {}),
  });
  return results.map((r, i) => {
    const s = stanzas[i]!;
    if (r) return r;
    // Only a tag or fingerprint that matched makes a failure to open an error; otherwise the stanza was someone else's.
    const tagged = s.kind === 'tag' || s.kind === 'tagpq' || (s.kind === 'picohsm' && s.stanza.fingerprint !== null);
    return tagged && mayBeFor(key, s) ? null : NOT_FOR_THIS;
  });
}
