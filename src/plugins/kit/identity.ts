/**
 * The identity-v1 engine (rage's `IdentityPluginV1` state machine, once for every family): parse
 * the identities and each file's stanzas, claim every stanza for at most one identity by a
 * card-free match, open only the devices a stanza refers to (most-referenced first, each once),
 * ask for an absent device, run the family's card operation per identity, and collect per-file
 * results with errors that carry the file and stanza indices.
 */
import type { Decoded } from '../../age/plugin/v1.ts';
import type { IdentityV1Error } from '../../age/plugin/server.ts';
import type { PluginUi } from '../../age/plugin/ui.ts';
import type { Stanza } from '../../age/stanza.ts';
import { describeError } from './describe.ts';
import { MALFORMED, NOT_FOR_THIS, type DeviceAccess, type DeviceRef, type OpenDevice, type TokenContext, type TokenFamily } from './family.ts';
import { verifyPin } from './pin.ts';
import { userPinSource, type PinSource } from './pinSource.ts';
import { openOrAsk } from './presence.ts';

export interface UnwrapEnvironment {
  ui: PluginUi;
  /** PIN sources before the user (an agent, CI); the user (ui.requestSecret) is always last. */
  pinSources?: PinSource[];
  /** Skip absent devices without asking. */
  skipNotFound?: boolean;
  /** Whether someone could be asked about an absent device (a terminal exists). */
  interactive?: boolean | (() => boolean);
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  log?: (line: string) => void;
}

export interface UnwrapResult {
  /** file index → file key */
  fileKeys: Map<number, Uint8Array>;
  /** In the order they happened. */
  errors: IdentityV1Error[];
  /** Operations (APDUs) sent to all devices. */
  operations: number;
}

interface Candidate<P> {
  file: number;
  /** The stanza's index in its file. */
  stanza: number;
  parsed: P;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function unwrapFiles<I, P, R, D extends OpenDevice>(
  family: TokenFamily<I, P, R, D>,
  req: { identities: Decoded[]; files: Stanza[][] },
  env: UnwrapEnvironment,
  access: DeviceAccess<D> = family.devices(),
): Promise<UnwrapResult> {
  const { texts } = family;
  const result: UnwrapResult = { fileKeys: new Map(), errors: [], operations: 0 };
  const log = env.log ?? (() => undefined);

  const identities: { index: number; data: Uint8Array; identity: I; device: DeviceRef }[] = [];
  for (const d of req.identities) {
    try {
      if (d.plugin !== family.name) throw new Error('another plugin');
      const identity = family.parseIdentity(d.data);
      identities.push({ index: d.index, data: d.data, identity, device: family.deviceOf(identity) });
    } catch (e) {
      result.errors.push({ kind: 'identity', index: d.index, message: (d.plugin === family.name && family.describeInvalid?.(e)) || texts.invalidIdentity });
    }
  }

  // Parse every stanza of ours; a malformed one fails its file.
  const failed = new Set<number>();
  const candidates: Candidate<P>[] = [];
  req.files.forEach((file, f) => {
    for (const [s, stanza] of file.entries()) {
      let parsed: P | null | typeof MALFORMED;
      let invalid = texts.invalidStanza;
      try {
        parsed = family.parseStanza(stanza);
      } catch (e) {
        parsed = MALFORMED;
        invalid = family.describeInvalid?.(e) ?? invalid;
      }
      if (parsed === MALFORMED) {
        result.errors.push({ kind: 'stanza', file: f, index: s, message: invalid });
        failed.add(f);
        return;
      }
      if (parsed !== null) candidates.push({ file: f, stanza: s, parsed });
    }
  });

  // Each stanza is claimed by at most one identity (the first that matches), unless the family
  // can only tell on the device (sharedStanzas). An identity's stanzas are split by the device
  // each names (deviceFor), so one work item is one identity on one device.
  const claimed = new Set<Candidate<P>>();
  const work = identities.flatMap((id) => {
    const items = new Map<string, { device: DeviceRef; matches: Candidate<P>[] }>();
    for (const c of candidates) {
      if (claimed.has(c) || failed.has(c.file) || !family.matches(id.identity, c.parsed)) continue;
      if (!family.sharedStanzas) claimed.add(c);
      const device = family.deviceFor?.(id.identity, c.parsed) ?? id.device;
      let item = items.get(device.key);
      if (!item) items.set(device.key, (item = { device, matches: [] }));
      item.matches.push(c);
    }
    return [...items.values()].map((item) => ({ ...id, ...item, tried: new Set<Candidate<P>>() }));
  });

  // Devices most-referenced first; on each device, its identities most-referenced first.
  const byDevice = new Map<string, { ref: DeviceRef; count: number; order: number; items: typeof work }>();
  for (const w of work) {
    let g = byDevice.get(w.device.key);
    if (!g) byDevice.set(w.device.key, (g = { ref: w.device, count: 0, order: byDevice.size, items: [] }));
    g.count += w.matches.length;
    g.items.push(w);
  }
  const devices = [...byDevice.values()].sort((a, b) => b.count - a.count || a.order - b.order);
  for (const g of devices) g.items.sort((a, b) => b.matches.length - a.matches.length);

  const pending = (c: Candidate<P>) => !result.fileKeys.has(c.file) && !failed.has(c.file);
  /** One stanza per pending file at a time (a stanza that does not open lets the file's next one try). */
  const nextBatch = (w: (typeof work)[number]) => {
    const batch: Candidate<P>[] = [];
    for (const c of w.matches) if (pending(c) && !batch.some((b) => b.file === c.file) && !w.tried.has(c)) batch.push(c);
    for (const c of batch) w.tried.add(c);
    return batch;
  };
  const record = (batch: Candidate<P>[], keys: Array<Uint8Array | null | typeof NOT_FOR_THIS>) =>
    batch.forEach((c, i) => {
      const key = keys[i];
      if (key === NOT_FOR_THIS) return;
      if (key) result.fileKeys.set(c.file, key);
      else result.errors.push({ kind: 'stanza', file: c.file, index: c.stanza, message: texts.decryptFailed });
    });
  const sleep = env.sleep ?? defaultSleep;
  const now = env.now ?? Date.now;
  try {
    for (const g of devices) {
      if (!g.items.some((w) => w.matches.some(pending))) continue;
      let device: D | null;
      try {
        device = await openOrAsk(access, g.ref, {
          texts,
          ui: env.ui,
          skipNotFound: env.skipNotFound ?? false,
          interactive: env.interactive ?? true,
          sleep,
          log,
        });
      } catch (e) {
        for (const w of g.items) if (w.matches.some(pending)) result.errors.push({ kind: 'identity', index: w.index, message: describeError(family, e, g.ref) });
        continue;
      }
      if (!device) continue; // skipped by the user or the environment
      const ctx = tokenContext(family, device.ref ?? g.ref, env, now, log);
      try {
        for (const w of g.items) {
          try {
            for (let batch = nextBatch(w); batch.length; batch = nextBatch(w)) {
              record(batch, await family.unwrap(device, w.identity, batch.map((c) => c.parsed), ctx));
            }
          } catch (e) {
            result.errors.push({ kind: 'identity', index: w.index, message: describeError(family, e, g.ref) });
          }
        }
      } finally {
        result.operations += device.operations ?? 0;
        await device.close().catch(() => undefined);
      }
    }
  } finally {
    await access.release().catch(() => undefined);
  }
  return result;
}

/** A card operation's context on `device`: the PIN loop over the sources, then the user; the touch message. */
export function tokenContext<I, P, R, D extends OpenDevice>(
  family: TokenFamily<I, P, R, D>,
  device: DeviceRef,
  env: Pick<UnwrapEnvironment, 'ui' | 'pinSources'>,
  now: () => number,
  log: (l: string) => void,
): TokenContext {
  const sources = [...(env.pinSources ?? []), userPinSource(env.ui)];
  return {
    device,
    ui: env.ui,
    verifyPin: (target, opts = {}) => verifyPin(target, { family: family.name, device, texts: family.texts, sources, ...(opts.once ? { once: true } : {}) }),
    touch: () => env.ui.message(family.texts.touch(device.label)),
    now,
    log,
  };
}

/** Errors to send: a stanza error of a file that was decrypted after all is dropped (Go age aborts on any error). */
export function reportable(r: Pick<UnwrapResult, 'fileKeys' | 'errors'>): IdentityV1Error[] {
  return r.errors.filter((e) => !(e.kind === 'stanza' && r.fileKeys.has(e.file)));
}
