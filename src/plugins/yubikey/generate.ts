/**
 * `--generate`: a new P-256 key in a retired slot, with a self-signed certificate that marks it as
 * an age identity (O=age-plugin-yubikey, CN=name, Yubico policy extension) — the same certificate
 * shape age-plugin-yubikey writes, so each tool recognises the other's slots.
 *
 * Card management follows the reference: the PIN is verified (a default PIN/PUK is changed
 * first), the management key is taken from PIN-protected data or, when still the default, replaced
 * by a random PIN-protected one. Unlike the reference, AES management keys (the default from
 * firmware 5.7) work.
 *
 * With `pq`, the key is also a post-quantum `mlkem768p256tag` key: a 64-byte ML-KEM-768 seed drawn
 * from the system's cryptographic RNG is stored in the certificate's critical seed extension, as
 * age-plugin-yubikey's tagpq support stores it, and the recipient is `age1tagpq1…`.
 */
import { randomBytes } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { tagPqStaticTag } from '../../age/mlkem768p256tag.ts';
import { concatBytes, tlv, tlvMap } from '../../transport/tlv.ts';
import {
  DEFAULT_MGMT_KEY,
  DEFAULT_PIN,
  DEFAULT_PUK,
  KeyAlgorithm,
  ObjectId,
  PIN_POLICY_BYTE,
  RETIRED_SLOTS,
  slotToUi,
  TOUCH_POLICY_BYTE,
  type PinPolicy,
  type TouchPolicy,
} from '../../tokens/piv/constants.ts';
import { buildSelfSignedCertificate, OID } from '../../tokens/piv/certificate.ts';
import { PivError } from '../../tokens/piv/errors.ts';
import { randomMgmtKey } from '../../tokens/piv/managementKey.ts';
import type { Prompter } from '../../term/prompt.ts';
import type { YubiKey } from './devices.ts';
import { YubiKeyError } from './errors.ts';
import { compressP256, recipientTag } from './recipient.ts';
import { pinEntryProblem } from './pin.ts';
import { CERT_ORGANIZATION, readSlotKey, type SlotKey } from './slotKey.ts';
import { S } from './strings.ts';
import { REFERENCE_VERSION } from './about.ts';

export interface GenerateOptions {
  slot?: number;
  name?: string;
  pinPolicy: Exclude<PinPolicy, 'default'>;
  touchPolicy: Exclude<TouchPolicy, 'default'>;
  force?: boolean;
  /** Make a post-quantum (ML-KEM-768 + P-256, `age1tagpq1…`) key. */
  pq?: boolean;
}

/** Picks the slot: the requested one (must be empty unless forced) or the first empty one. */
export async function chooseSlot(yk: YubiKey, opts: Pick<GenerateOptions, 'slot' | 'force'>): Promise<number> {
  if (opts.slot !== undefined) {
    const occupied = (await yk.piv.getCertificate(opts.slot)) !== null;
    if (occupied && !opts.force) throw new YubiKeyError('SLOT_OCCUPIED', S.slotNotEmpty(slotToUi(opts.slot)));
    return opts.slot;
  }
  for (const slot of RETIRED_SLOTS) {
    if ((await yk.piv.getCertificate(slot)) === null) return slot;
  }
  throw new YubiKeyError('NO_EMPTY_SLOT', S.noEmptySlots(yk.serial));
}

async function askNewPin(prompter: Prompter): Promise<string> {
  for (;;) {
    const a = await prompter.secret(S.newPin);
    const problem = pinEntryProblem(a);
    if (problem) {
      prompter.say(`${problem} The PIN must be at least 6 and at most 8 characters in length.`);
      continue;
    }
    if (a === DEFAULT_PIN || a === DEFAULT_PUK) {
      prompter.say('Choose a PIN that is not the default.');
      continue;
    }
    const b = await prompter.secret(S.repeatPin);
    if (a === b) return a;
    prompter.say(S.pinsDontMatch);
  }
}

/** Verifies the PIN (changing a default PIN and PUK) and authenticates with the management key. */
export async function manage(yk: YubiKey, prompter: Prompter, say: (line: string) => void): Promise<string> {
  let pin = await prompter.secret(S.pinEntry(yk.serial));
  try {
    await yk.piv.verifyPin(pin);
  } catch (e) {
    if (e instanceof PivError && (e.code === 'PIN_INVALID' || e.code === 'PIN_BLOCKED')) throw new YubiKeyError(e.code, e.message, { cause: e });
    throw e;
  }
  if (pin === DEFAULT_PIN) {
    say("✨ Your YubiKey is using the default PIN. Let's change it!");
    say("✨ We'll also set the PUK equal to the PIN.");
    say('');
    say('🔐 The PIN can be numbers, letters, or symbols. Not just numbers!');
    say('📏 The PIN must be at least 6 and at most 8 characters in length.');
    say('❌ Your keys will be lost if the PIN and PUK are locked after 3 incorrect tries.');
    say('');
    const puk = await prompter.secret(S.pukEntry);
    const newPin = await askNewPin(prompter);
    await yk.piv.changePuk(puk, newPin);
    await yk.piv.changePin(pin, newPin);
    pin = newPin;
    await yk.piv.verifyPin(pin);
  }

  const algorithm = await yk.piv.getMgmtKeyAlgorithm();
  const printed = await yk.piv.getObject(ObjectId.PRINTED).catch(() => null);
  const stored = printed ? tlvMap(tlvMap(printed).get(0x88) ?? new Uint8Array(0)).get(0x89) : undefined;
  if (stored) {
    try {
      await yk.piv.authenticate(stored, algorithm);
      return pin;
    } catch (e) {
      throw new YubiKeyError('MANAGEMENT_KEY', S.mgmtAuthFailed, { cause: e });
    }
  }
  try {
    await yk.piv.authenticate(DEFAULT_MGMT_KEY, algorithm);
  } catch (e) {
    throw new YubiKeyError('MANAGEMENT_KEY', S.mgmtCustom, { cause: e });
  }
  say(S.defaultMgmt1);
  say(S.defaultMgmt2);
  const newKey = randomMgmtKey(algorithm);
  await yk.piv.setMgmtKey(newKey, algorithm);
  await yk.piv.putObject(ObjectId.PRINTED, tlv(0x88, tlv(0x89, newKey)));
  const admin = await yk.piv.getObject(ObjectId.ADMIN).catch(() => null);
  const fields = admin ? tlvMap(tlvMap(admin).get(0x80) ?? new Uint8Array(0)) : new Map<number, Uint8Array>();
  const flags = (fields.get(0x81)?.[0] ?? 0) | 0x02;
  fields.set(0x81, Uint8Array.of(flags));
  const inner = [...fields.entries()].sort(([a], [b]) => a - b).map(([t, v]) => tlv(t, v));
  await yk.piv.putObject(ObjectId.ADMIN, tlv(0x80, concatBytes(...inner)));
  await yk.piv.authenticate(newKey, algorithm);
  say(S.defaultMgmtDone);
  return pin;
}

export interface Generated {
  key: SlotKey;
  serial: number;
}

export async function generateIdentity(yk: YubiKey, opts: GenerateOptions, prompter: Prompter, say: (line: string) => void): Promise<Generated> {
  const slot = await chooseSlot(yk, opts);
  say(S.generating);
  say('');
  const pin = await manage(yk, prompter, say);
  const point = await yk.piv.generateKey(slot, KeyAlgorithm.EccP256, opts.pinPolicy, opts.touchPolicy);
  const publicKey = compressP256(point);
  const mlkemSeed = opts.pq ? new Uint8Array(randomBytes(64)) : undefined;
  const tag = mlkemSeed ? tagPqStaticTag(p256.Point.fromBytes(point).toBytes(false)) : recipientTag(publicKey);
  const name = opts.name ?? `age identity ${Buffer.from(tag).toString('hex')}`;
  say('');
  say(S.generatingCert);
  if (opts.pinPolicy === 'always') await yk.piv.verifyPin(pin);
  if (opts.touchPolicy !== 'never') say(S.touchGenerate);
  let der: Uint8Array;
  try {
    der = await buildSelfSignedCertificate({
      subject: [
        { type: OID.organization, value: CERT_ORGANIZATION },
        { type: OID.organizationalUnit, value: REFERENCE_VERSION },
        { type: OID.commonName, value: name },
      ],
      publicKey: point,
      policy: [PIN_POLICY_BYTE[opts.pinPolicy], TOUCH_POLICY_BYTE[opts.touchPolicy]],
      ...(mlkemSeed ? { mlkemSeed } : {}),
      signDigest: (digest) => yk.piv.signDigest(slot, KeyAlgorithm.EccP256, digest),
    });
  } finally {
    mlkemSeed?.fill(0);
  }
  await yk.piv.putCertificate(slot, der);
  const key = await readSlotKey(yk.piv, slot);
  if (!key || Boolean(key.pq) !== Boolean(opts.pq)) throw new YubiKeyError('CARD', 'The new certificate could not be read back from the YubiKey');
  return { key, serial: yk.serial };
}
