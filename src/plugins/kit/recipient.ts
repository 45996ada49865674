/**
 * The recipient-v1 engine (rage's `RecipientPluginV1`, once for every family): recipients and
 * identities (`age -e -i`, whose recipient the family reads from the device, without a PIN) become
 * the family's recipients; each file key is wrapped to every one of them. Any error fails the
 * whole request, as the protocol requires.
 */
import { labelMixError } from '../../age/labels.ts';
import type { Decoded } from '../../age/plugin/v1.ts';
import type { RecipientV1Error } from '../../age/plugin/server.ts';
import type { Stanza } from '../../age/stanza.ts';
import type { DeviceAccess, OpenDevice, TokenFamily } from './family.ts';

export interface WrapOutcome {
  /** stanzas[i] = stanzas for file key i; empty when errors is non-empty. */
  stanzas: Stanza[][];
  labels: string[];
  errors: RecipientV1Error[];
}

export async function wrapFileKeys<I, P, R, D extends OpenDevice>(
  family: TokenFamily<I, P, R, D>,
  req: { recipients: Decoded[]; identities: Decoded[]; fileKeys: Uint8Array[] },
  env: { log?: (line: string) => void } = {},
  access?: DeviceAccess<D>,
): Promise<WrapOutcome> {
  const { texts } = family;
  const errors: RecipientV1Error[] = [];
  const recipients: R[] = [];
  for (const d of req.recipients) {
    try {
      if (d.plugin !== family.name) throw new Error('another plugin');
      recipients.push(family.parseRecipient(d.data));
    } catch {
      errors.push({ kind: 'recipient', index: d.index, message: texts.invalidRecipient });
    }
  }
  let devices = access;
  try {
    for (const d of req.identities) {
      let identity: I;
      try {
        if (d.plugin !== family.name) throw new Error('another plugin');
        identity = family.parseIdentity(d.data);
      } catch {
        errors.push({ kind: 'identity', index: d.index, message: texts.invalidIdentity });
        continue;
      }
      try {
        if (!family.recipientOf) throw new Error(texts.invalidIdentity);
        devices ??= family.devices();
        recipients.push(await family.recipientOf(identity, devices, env.log ?? (() => undefined)));
      } catch (e) {
        errors.push({ kind: 'identity', index: d.index, message: e instanceof Error ? e.message : String(e) });
      }
    }
  } finally {
    await devices?.release().catch(() => undefined);
  }
  if (errors.length) return { stanzas: [], labels: [], errors };
  // Every stanza of a file carries the same labels: refuse, as Go age does, recipients whose label
  // sets differ (post-quantum with classic would leave the file open to a quantum computer).
  const mix = family.labels ? labelMixError(recipients.map((r) => family.labels!([r]))) : null;
  if (mix) return { stanzas: [], labels: [], errors: [{ kind: 'internal', message: mix }] };
  return {
    stanzas: req.fileKeys.map((fk) => recipients.flatMap((r) => family.wrap(fk, r))),
    labels: family.labels?.(recipients) ?? [],
    errors,
  };
}
