/**
 * The recipient-v1 engine (rage's `RecipientPluginV1`, once for every family): recipients and
 * identities (`age -e -i`, whose recipient the family reads from the device, without a PIN) become
 * the family's recipients; each file key is wrapped to every one of them. Families whose wraps
 * need the device (symmetric wraps) get it through a `WrapContext`: the run's devices opened once
 * each with the absent-device rules, the PIN loop and the touch message. Any error fails the whole
 * request, as the protocol requires.
 */
import { labelMixError } from '../../age/labels.ts';
import type { Decoded } from '../../age/plugin/v1.ts';
import type { RecipientV1Error } from '../../age/plugin/server.ts';
import type { PluginUi } from '../../age/plugin/ui.ts';
import type { Stanza } from '../../age/stanza.ts';
import { describeError } from './describe.ts';
import type { DeviceAccess, OpenDevice, TokenFamily, WrapContext } from './family.ts';
import { tokenContext } from './identity.ts';
import type { PinSource } from './pinSource.ts';
import { openOrAsk } from './presence.ts';

export interface WrapOutcome {
  /** stanzas[i] = stanzas for file key i; empty when errors is non-empty. */
  stanzas: Stanza[][];
  labels: string[];
  errors: RecipientV1Error[];
}

export interface WrapEnvironment {
  log?: (line: string) => void;
  /** The user (through the age client); without it, nobody can be asked for a PIN or an absent device. */
  ui?: PluginUi;
  /** PIN sources before the user (an agent, CI). */
  pinSources?: PinSource[];
  skipNotFound?: boolean;
  interactive?: boolean | (() => boolean);
  sleep?: (ms: number) => Promise<void>;
}

const nobody: PluginUi = {
  message: async () => undefined,
  confirm: async () => 'unsupported',
  requestPublic: () => Promise.reject(new Error('nobody to ask')),
  requestSecret: () => Promise.reject(new Error('nobody to ask')),
};
const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The wrap context over `access()` (opened lazily): devices opened once per run with the absent-device rules. */
export function wrapContext<I, P, R, D extends OpenDevice>(
  family: TokenFamily<I, P, R, D>,
  access: () => DeviceAccess<D>,
  env: WrapEnvironment,
): WrapContext<D> & { closeAll(): Promise<void> } {
  const ui = env.ui ?? nobody;
  const log = env.log ?? (() => undefined);
  const opened = new Map<string, Promise<D | null>>();
  const absentFails = family.wrapFailsAbsent || !env.ui;
  return {
    ui,
    log,
    open(ref) {
      let d = opened.get(ref.key);
      if (!d) {
        d = openOrAsk(access(), ref, {
          texts: family.texts,
          ui,
          skipNotFound: absentFails ? false : (env.skipNotFound ?? false),
          interactive: absentFails ? false : (env.interactive ?? true),
          sleep: env.sleep ?? defaultSleep,
          log,
        });
        opened.set(ref.key, d);
      }
      return d;
    },
    context: (device) => tokenContext(family, device, { ui, ...(env.pinSources ? { pinSources: env.pinSources } : {}) }, Date.now, log),
    async closeAll() {
      for (const d of opened.values()) await (await d.catch(() => null))?.close().catch(() => undefined);
      opened.clear();
    },
  };
}

export async function wrapFileKeys<I, P, R, D extends OpenDevice>(
  family: TokenFamily<I, P, R, D>,
  req: { recipients: Decoded[]; identities: Decoded[]; fileKeys: Uint8Array[] },
  env: WrapEnvironment = {},
  access?: DeviceAccess<D>,
): Promise<WrapOutcome> {
  const { texts } = family;
  const errors: RecipientV1Error[] = [];
  const recipients: { recipient: R; kind: 'recipient' | 'identity'; index: number }[] = [];
  const invalid = (d: Decoded, e: unknown, generic: string) => (d.plugin === family.name && family.describeInvalid?.(e)) || generic;
  for (const d of req.recipients) {
    try {
      if (d.plugin !== family.name) throw new Error('another plugin');
      recipients.push({ recipient: family.parseRecipient(d.data), kind: 'recipient', index: d.index });
    } catch (e) {
      errors.push({ kind: 'recipient', index: d.index, message: invalid(d, e, texts.invalidRecipient) });
    }
  }
  let devices = access;
  const ctx = wrapContext(family, () => (devices ??= family.devices()), env);
  const log = env.log ?? (() => undefined);
  try {
    for (const d of req.identities) {
      let identity: I;
      try {
        if (d.plugin !== family.name) throw new Error('another plugin');
        identity = family.parseIdentity(d.data);
      } catch (e) {
        errors.push({ kind: 'identity', index: d.index, message: invalid(d, e, texts.invalidIdentity) });
        continue;
      }
      try {
        if (!family.recipientOf) throw new Error(texts.invalidIdentity);
        devices ??= family.devices();
        recipients.push({ recipient: await family.recipientOf(identity, devices, log, ctx), kind: 'identity', index: d.index });
      } catch (e) {
        errors.push({ kind: 'identity', index: d.index, message: e instanceof Error ? e.message : String(e) });
      }
    }
    if (errors.length) return { stanzas: [], labels: [], errors };
    // Every stanza of a file carries the same labels: refuse, as Go age does, recipients whose label
    // sets differ (post-quantum with classic would leave the file open to a quantum computer).
    const mix = family.labels ? labelMixError(recipients.map((r) => family.labels!([r.recipient]))) : null;
    if (mix) return { stanzas: [], labels: [], errors: [{ kind: 'internal', message: mix }] };
    const stanzas: Stanza[][] = [];
    for (const fk of req.fileKeys) {
      const file: Stanza[] = [];
      for (const r of recipients) {
        try {
          file.push(...(await family.wrap(fk, r.recipient, ctx)));
        } catch (e) {
          return { stanzas: [], labels: [], errors: [{ kind: r.kind, index: r.index, message: describeError(family, e, { key: '', label: '' }) }] };
        }
      }
      stanzas.push(file);
    }
    return { stanzas, labels: family.labels?.(recipients.map((r) => r.recipient)) ?? [], errors };
  } finally {
    await ctx.closeAll();
    await devices?.release().catch(() => undefined);
  }
}
