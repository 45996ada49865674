/**
 * The device commands of `age-plugin-picohsm`: generate a key (PIN through the kit's PIN loop:
 * tries shown, the last one never spent), list keys (ours, or every usable one), convert an
 * identity to its recipient (no PIN). Identity files carry a comment block with the device,
 * label, key type and recipients; every listing has a `--json` form.
 */
import { lstatSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Io } from '../../term/io.ts';
import { write } from '../../term/io.ts';
import { openPrompter } from '../../term/prompt.ts';
import { asTokenError, TokenError } from '../../tokens/errors.ts';
import type { CardReaders } from '../../transport/readers.ts';
import { verifyPin } from '../kit/pin.ts';
import type { PinSource } from '../kit/pinSource.ts';
import type { Options } from './cli.ts';
import { listPicoHsms, type PicoHsm } from './devices.ts';
import { PicoHsmError } from './errors.ts';
import { deviceRefOf, picoHsmDevices, scHsmPin, TEXTS } from './family.ts';
import { decodeIdentity, encodeIdentity, type PicoHsmIdentity } from './identity.ts';
import { findKey, generateAgeKey, identityOf, readAgeKeys, recipientsOf, type AgeKey } from './keys.ts';
import { formatFingerprint } from './recipient.ts';
import { PIN_ENV, PLUGIN_NAME, S } from './strings.ts';

const MAX_IDENTITY_FILE = 1 << 20;

interface KeyView {
  serial: string;
  keyId: number;
  label: string | null;
  keyType: 'p256' | 'x25519';
  postQuantum: boolean;
  ours: boolean;
  recipient: string;
  tagRecipient?: string;
  fingerprint?: string;
  identity: string;
}

function view(hsm: PicoHsm, key: AgeKey): KeyView {
  const r = recipientsOf(key);
  return {
    serial: hsm.serial!,
    keyId: key.keyId,
    label: key.label,
    keyType: key.curve,
    postQuantum: Boolean(key.pq),
    ours: key.ours,
    recipient: r.recipient,
    ...(r.tagRecipient ? { tagRecipient: r.tagRecipient } : {}),
    ...(r.fingerprint ? { fingerprint: formatFingerprint(r.fingerprint) } : {}),
    identity: encodeIdentity(identityOf(key, hsm.tag!)),
  };
}

const typeName = (t: 'p256' | 'x25519') => (t === 'p256' ? 'P-256' : 'X25519');

function commentBlock(v: KeyView, created?: Date): string {
  const lines = [`#       Serial: ${v.serial}, Key: ${v.keyId}`, `#        Label: ${v.label ?? '(none)'}`, `#     Key type: ${v.postQuantum ? 'P-256 + ML-KEM-768 (post-quantum, mlkem768p256tag)' : typeName(v.keyType)}`];
  if (created) lines.push(`#      Created: ${created.toUTCString()}`);
  lines.push(`#    Recipient: ${v.recipient}`);
  if (v.tagRecipient) lines.push(`#          Tag: ${v.tagRecipient}`);
  if (v.fingerprint) lines.push(`#  Fingerprint: ${v.fingerprint}`);
  if (!v.ours) lines.push('#      Made by: another tool');
  return lines.join('\n') + '\n';
}

/** The Pico HSMs to work on: all of them, or the one `--serial` names. Uninitialised ones are reported. */
async function devicesFor(readers: CardReaders, serial: string | undefined, io: Io, opts: { needOne: boolean }): Promise<PicoHsm[]> {
  const all = await listPicoHsms(readers);
  const keep: PicoHsm[] = [];
  for (const d of all) {
    if (!d.initialised) {
      if (serial === undefined) io.stderr.write(S.uninitialised(d.reader) + '\n');
      await d.close();
    } else if (serial === undefined || d.serial === serial) keep.push(d);
    else await d.close();
  }
  if (keep.length === 0) {
    const uninit = all.find((d) => !d.initialised);
    if (uninit && opts.needOne) throw new PicoHsmError('DEVICE', S.uninitialised(uninit.reader));
    throw new PicoHsmError('DEVICE', serial === undefined ? S.noDevice : S.serialNotFound(serial.slice(0, 40)));
  }
  if (opts.needOne && keep.length > 1) {
    for (const d of keep) await d.close();
    throw new PicoHsmError('DEVICE', S.multipleDevices);
  }
  return keep;
}

/** PIN sources for the command line: --pin, then PICOHSM_PIN (both with a warning), then the terminal. */
function pinSources(opts: Options, io: Io): { sources: PinSource[]; close(): void } {
  const sources: PinSource[] = [];
  if (opts.pin !== undefined) {
    io.stderr.write(S.pinArgvWarning + '\n');
    const pin = opts.pin;
    sources.push({ interactive: false, pin: async () => pin });
  } else if (io.env[PIN_ENV] !== undefined) {
    io.stderr.write(S.pinEnvWarning + '\n');
    const pin = io.env[PIN_ENV];
    sources.push({ interactive: false, pin: async () => pin });
  }
  let prompter: ReturnType<typeof openPrompter> | null = null;
  sources.push({
    interactive: true,
    pin: async (req) => (prompter ??= openPrompter(io.stdin as never, io.stderr)).secret(req.prompt),
  });
  return { sources, close: () => prompter?.close() };
}

async function generate(opts: Options, io: Io, readers: CardReaders): Promise<number> {
  const [hsm] = await devicesFor(readers, opts.serial, io, { needOne: true });
  const device = hsm!;
  const pins = pinSources(opts, io);
  try {
    const existing = await readAgeKeys(device.session);
    if (existing.some((k) => k.label === opts.label)) throw new PicoHsmError('USAGE', S.labelTaken(opts.label!.slice(0, 64), device.serial!));
    await verifyPin(scHsmPin(device), { family: PLUGIN_NAME, device: { key: device.serial!, label: device.serial! }, texts: TEXTS, sources: pins.sources, once: true });
    io.stderr.write(S.generating(opts.keyType, opts.label!) + '\n');
    const key = await generateAgeKey(device.session, { label: opts.label!, keyType: opts.keyType, pq: opts.pq });
    const v = view(device, key);
    if (opts.json) {
      await write(io.stdout, JSON.stringify(v, null, 2) + '\n');
    } else {
      await write(io.stdout, commentBlock(v, new Date()) + v.identity + '\n');
      io.stderr.write(`\nPublic key (recipient):\n  ${v.recipient}\n`);
      if (v.postQuantum) io.stderr.write('  (post-quantum: Go age >= 1.3, rage >= 0.12 and typage encrypt to it without any plugin)\n');
      if (v.tagRecipient) io.stderr.write(`  ${v.tagRecipient}   (the same key for age >= 1.3, rage >= 0.12, typage: no plugin needed)\n`);
      if (v.fingerprint) io.stderr.write(`\nFingerprint: ${v.fingerprint}\n`);
      if (key.curve === 'x25519') io.stderr.write(`\n${S.x25519Cost}\n`);
      io.stderr.write(`\n${S.saveIdentity}\n`);
    }
    return 0;
  } finally {
    pins.close();
    await device.close();
  }
}

async function list(opts: Options, io: Io, readers: CardReaders): Promise<number> {
  const views: KeyView[] = [];
  for (const hsm of await devicesFor(readers, opts.serial, io, { needOne: false })) {
    try {
      for (const key of await readAgeKeys(hsm.session)) if (key.derive && (opts.listAll || key.ours)) views.push(view(hsm, key));
    } finally {
      await hsm.close();
    }
  }
  if (opts.json) {
    await write(io.stdout, JSON.stringify(views, null, 2) + '\n');
    return 0;
  }
  if (views.length === 0) {
    io.stderr.write(`${S.noKeys}\n${S.noKeysHint}\n`);
    return 0;
  }
  await write(io.stdout, views.map((v) => commentBlock(v) + v.recipient + '\n').join('\n'));
  return 0;
}

/** The identities `--convert` names: the argument itself, or the identity lines of a regular file. */
function identitiesOf(arg: string, io: Io): string[] {
  if (/^AGE-PLUGIN-PICOHSM-1/i.test(arg.trim())) return [arg.trim()];
  const path = resolve(io.cwd, arg);
  let st;
  try {
    st = lstatSync(path);
  } catch {
    throw new PicoHsmError('INVALID_IDENTITY', `${arg.slice(0, 80)} is neither an AGE-PLUGIN-PICOHSM-1… identity nor a file`);
  }
  if (!st.isFile()) throw new PicoHsmError('INVALID_IDENTITY', `${arg.slice(0, 80)} is not a regular file`);
  if (st.size > MAX_IDENTITY_FILE) throw new PicoHsmError('INVALID_IDENTITY', `${arg.slice(0, 80)} is larger than 1 MiB`);
  const ids = readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^AGE-PLUGIN-PICOHSM-1/i.test(l));
  if (ids.length === 0) throw new PicoHsmError('INVALID_IDENTITY', `${arg.slice(0, 80)} holds no AGE-PLUGIN-PICOHSM-1… identity`);
  return ids;
}

async function convert(opts: Options, io: Io, readers: CardReaders): Promise<number> {
  const access = picoHsmDevices(readers, async () => undefined);
  const out: { identity: string; recipient: string; tagRecipient?: string }[] = [];
  for (const s of identitiesOf(opts.convert!, io)) {
    const id: PicoHsmIdentity = decodeIdentity(s);
    const ref = deviceRefOf(id);
    const d = await access.open(ref);
    if (!d) throw new PicoHsmError('DEVICE', S.openFailed(ref.label));
    try {
      const key = findKey(d.keys, id);
      if (!key) throw new PicoHsmError('DEVICE', S.keyNotFound(ref.label.replace(/^with key /, ''), d.hsm.serial!));
      const r = recipientsOf(key);
      out.push({ identity: s.toUpperCase(), recipient: r.recipient, ...(r.tagRecipient ? { tagRecipient: r.tagRecipient } : {}) });
    } finally {
      await d.close();
    }
  }
  await write(io.stdout, opts.json ? JSON.stringify(out, null, 2) + '\n' : out.map((r) => r.recipient + '\n').join(''));
  return 0;
}

export async function runDeviceCommand(opts: Options, io: Io, readers: CardReaders): Promise<number> {
  try {
    if (opts.generate) return await generate(opts, io, readers);
    if (opts.convert !== undefined) return await convert(opts, io, readers);
    return await list(opts, io, readers);
  } catch (e) {
    const t = asTokenError(e);
    if (t instanceof TokenError && t.code === 'UNAVAILABLE') throw new PicoHsmError('DEVICE', S.pcscdNotRunning, { cause: t });
    throw t;
  }
}
