/**
 * The YubiKey family on the plugin kit: `age1yubikey1…` recipients (33-byte compressed P-256
 * points), `AGE-PLUGIN-YUBIKEY-1…` stubs (serial, slot, tag), `piv-p256` and `p256tag` stanzas,
 * and post-quantum keys (`mlkem768p256tag`: ML-KEM-768 from the seed in the slot certificate, in
 * software, with the P-256 half on the card; labelled `postquantum`),
 * YubiKeys found by serial among the PC/SC readers, and the card operation: the slot's key and
 * policies (GET METADATA), the PIN as the slot's policy requires, ECDH on the card with a touch
 * message when the touch policy asks for one. Cards are left powered so a PIN-once verification
 * survives to the next file and the next process.
 */
import { p256TagMatchesRecipientTag, parseP256Tag, P256TAG_TYPE, unwrapP256Tag, type P256TagStanza } from '../../age/p256tag.ts';
import { bytesEqual } from '../../age/p256.ts';
import { POSTQUANTUM } from '../../age/labels.ts';
import { loadTagPqKeys, mlkem768P256TagMatches, parseMlkem768P256Tag, wrapTagPqLoaded, type Mlkem768P256TagStanza } from '../../age/mlkem768p256tag.ts';
import type { Stanza } from '../../age/stanza.ts';
import { TokenError, TouchTimeout } from '../../tokens/errors.ts';
import { KeyAlgorithm } from '../../tokens/piv/constants.ts';
import { PivError } from '../../tokens/piv/errors.ts';
import { TransportError } from '../../transport/apdu.ts';
import { lazyReaders, type CardReaders } from '../../transport/readers.ts';
import { MALFORMED, type DeviceAccess, type DeviceRef, type KitTexts, type OpenDevice, type TokenContext, type TokenFamily } from '../kit/family.ts';
import type { YubiKey } from './devices.ts';
import { translateTransportError, YubiKeyError } from './errors.ts';
import { pivPin } from './pin.ts';
import { parsePivP256, PIV_P256_TYPE, unwrapPivP256, wrapPivP256, type PivP256Stanza } from './pivP256.ts';
import { parseRecipientBytes } from './recipient.ts';
import { readSlotForStub } from './slotKey.ts';
import { S } from './strings.ts';
import { parseStubBytes, PLUGIN_NAME, type Stub } from './stub.ts';

export type YubiKeyStanza =
  | { kind: 'piv'; stanza: PivP256Stanza }
  | { kind: 'tag'; stanza: P256TagStanza }
  | { kind: 'tagpq'; stanza: Mlkem768P256TagStanza };

/** A recipient: a 33-byte compressed P-256 point, or the 1249 bytes of a post-quantum key (age1tagpq1 form). */
export type YubiKeyRecipient = Uint8Array;

const isPq = (r: YubiKeyRecipient) => r.length !== 33;


/** An open YubiKey for one run, with its cached-touch clock. */
export interface YubiKeyDevice extends OpenDevice {
  yk: YubiKey;
  touchedAt: number;
}

export const TEXTS: KitTexts = {
  invalidRecipient: S.invalidRecipient,
  invalidIdentity: S.invalidStub,
  invalidStanza: S.invalidStanza,
  decryptFailed: S.decryptFailed,
  insertConfirm: S.insertConfirm,
  insertRetry: S.insertRetry,
  insertYes: S.insertYes,
  insertNo: S.insertNo,
  insertTimeout: S.insertTimeout,
  openFailed: S.openFailed,
  noTerminal: S.noTerminal,
  skipped: S.skipped,
  pinPrompt: S.pinPrompt,
  pinRequired: S.pinRequired,
  pinInvalid: S.pinInvalid,
  pinLastRetry: S.pinLastRetry,
  pinBlocked: S.pinBlocked,
  touch: S.touch,
  touchTimeout: S.touchTimeout,
  removed: S.removed,
  readerBusy: S.readerBusy,
  unavailable: S.pcscdNotRunning,
};

const TOUCH_CACHE_MS = 15_000;

function deviceRef(serial: number): DeviceRef {
  return { key: String(serial), label: String(serial) };
}

/** Device access over a reader system; `release` decides whether the readers are closed afterwards. */
export function yubikeyDevices(readers: CardReaders, release: () => Promise<void>): DeviceAccess<YubiKeyDevice> {
  return {
    async open(ref, log) {
      // The PIV session code loads with the first device: a wrap (recipient-v1) needs none.
      const { openBySerial } = await import('./devices.ts');
      const yk = await openBySerial(readers, Number(ref.key), log ? { log } : {});
      if (!yk) return null;
      return {
        yk,
        touchedAt: -Infinity,
        close: () => yk.close(true),
        get operations() {
          return yk.piv.protocol.apduCount;
        },
      };
    },
    release,
  };
}

export function yubikeyFamily(deps: { readers: () => Promise<CardReaders> }): TokenFamily<Stub, YubiKeyStanza, YubiKeyRecipient, YubiKeyDevice> {
  return {
    name: PLUGIN_NAME,
    texts: TEXTS,
    skipNotFoundEnv: 'AGE_PLUGIN_YUBIKEY_SKIP_NOT_FOUND',

    parseRecipient: parseRecipientBytes,
    parseIdentity: parseStubBytes,
    // ML-KEM is loaded only for post-quantum keys; a PQ recipient only comes from recipientOf, which loads it.
    wrap: (fileKey, r) => [isPq(r) ? wrapTagPqLoaded(fileKey, r) : wrapPivP256(fileKey, r)],
    labels: (recipients) => (recipients.length > 0 && recipients.every(isPq) ? [POSTQUANTUM] : []),

    async recipientOf(stub, devices, log) {
      const d = await devices.open(deviceRef(stub.serial), log).catch(() => null);
      if (!d) throw new YubiKeyError('NOT_FOUND', S.openFailed(stub.serial));
      try {
        const slot = await readSlotForStub(d.yk.piv, stub.slot, stub.tag);
        if (!slot) throw new YubiKeyError('STUB_MISMATCH', S.stubMismatch);
        if (slot.pq) await loadTagPqKeys();
        return slot.pq ? slot.pq.recipient : slot.publicKey;
      } catch (e) {
        throw e instanceof YubiKeyError ? e : new YubiKeyError('CARD', S.openFailed(stub.serial), { cause: e });
      } finally {
        await d.close().catch(() => undefined);
      }
    },

    parseStanza(st: Stanza) {
      if (st.type === PIV_P256_TYPE) {
        const stanza = parsePivP256(st);
        return stanza ? { kind: 'piv', stanza } : MALFORMED;
      }
      if (st.type === P256TAG_TYPE) {
        const stanza = parseP256Tag(st.type, st.args, st.body);
        return stanza ? { kind: 'tag', stanza } : null;
      }
      const pq = parseMlkem768P256Tag(st);
      if (pq) return 'ok' in pq ? { kind: 'tagpq', stanza: pq.ok } : MALFORMED;
      return null;
    },
    // Card-free: a stanza for another key never costs a PIN, a touch or an APDU.
    matches: (stub, c) =>
      c.kind === 'piv'
        ? bytesEqual(c.stanza.tag, stub.tag)
        : c.kind === 'tag'
          ? p256TagMatchesRecipientTag(c.stanza, stub.tag)
          : mlkem768P256TagMatches(c.stanza, stub.tag),
    deviceOf: (stub) => deviceRef(stub.serial),
    devices() {
      const readers = lazyReaders(deps.readers);
      return yubikeyDevices(readers, () => readers.close());
    },
    unwrap: unwrapOnCard,
    describeError(e, device) {
      const t = translateTransportError(e);
      if (t instanceof TransportError) return S.removed(device.label);
      if (t instanceof YubiKeyError || t instanceof TokenError) return t.message;
      return `Error while communicating with YubiKey: ${(t as Error)?.message ?? String(t)}`;
    },
  };
}

/** The card operation: check the slot against the stub, verify the PIN as its policy asks, ECDH per stanza. */
async function unwrapOnCard(d: YubiKeyDevice, stub: Stub, stanzas: YubiKeyStanza[], ctx: TokenContext): Promise<Array<Uint8Array | null>> {
  const { yk } = d;
  const slot = await readSlotForStub(yk.piv, stub.slot, stub.tag);
  if (!slot) throw new YubiKeyError('STUB_MISMATCH', S.stubMismatch);
  if (slot.pinPolicy !== 'never') await ctx.verifyPin(pivPin(yk), { once: slot.pinPolicy === 'once' });
  const ecdh = async (peer: Uint8Array): Promise<Uint8Array> => {
    const needsTouch = slot.touchPolicy === 'always' || (slot.touchPolicy === 'cached' && ctx.now() - d.touchedAt > TOUCH_CACHE_MS);
    if (needsTouch) await ctx.touch();
    try {
      const x = await yk.piv.calculateSecret(stub.slot, KeyAlgorithm.EccP256, peer);
      d.touchedAt = ctx.now();
      return x;
    } catch (e) {
      if (e instanceof PivError && e.code === 'SECURITY_STATUS' && slot.touchPolicy && slot.touchPolicy !== 'never') {
        throw new TouchTimeout(S.touchTimeout(yk.serial), e);
      }
      throw e;
    }
  };
  const keys: Array<Uint8Array | null> = [];
  for (const c of stanzas) {
    if (c.kind === 'tag') {
      keys.push(await unwrapP256Tag(c.stanza, slot.publicKey, ecdh));
      continue;
    }
    if (c.kind === 'tagpq') {
      keys.push(slot.pq ? await (await loadTagPqKeys()).unwrapMlkem768P256Tag(c.stanza, slot.pq, ecdh) : null);
      continue;
    }
    try {
      keys.push(await unwrapPivP256(c.stanza, slot.publicKey, ecdh));
    } catch (e) {
      if (!(e instanceof YubiKeyError && e.code === 'DECRYPT_FAILED')) throw e;
      keys.push(null);
    }
  }
  return keys;
}
