/**
 * The generic half of the in-process typage (`age-encryption`) adapters: a `Recipient` and an
 * `Identity` for any family, running the kit's engines without a plugin process, and
 * `readerAdapters` for the families behind PC/SC readers. A family's adapter only names itself
 * and passes its options through.
 */
import { Stanza as TypageStanza, type Identity, type Recipient } from 'age-encryption';
import { decodePluginIdentity, decodePluginRecipient } from '../../age/bech32.ts';
import type { Decoded } from '../../age/plugin/v1.ts';
import type { PluginUi } from '../../age/plugin/ui.ts';
import type { CardReaders } from '../../transport/readers.ts';
import type { DeviceAccess, OpenDevice, TokenFamily } from './family.ts';
import { unwrapFiles } from './identity.ts';
import { wrapContext, wrapFileKeys } from './recipient.ts';
import type { Stanza } from '../../age/stanza.ts';
import type { PinSource } from './pinSource.ts';

/** Decodes a recipient or identity string for a family, or throws `invalid`. */
export function decodeFor(decode: (s: string) => { name: string; data: Uint8Array }, s: string, name: string, invalid: () => Error): Decoded {
  let d;
  try {
    d = decode(s);
  } catch (cause) {
    throw Object.assign(invalid(), { cause });
  }
  if (d.name !== name) throw invalid();
  return { index: 0, plugin: d.name, data: d.data };
}

const toTypage = (stanzas: Stanza[]) => stanzas.map((s) => new TypageStanza([s.type, ...s.args], s.body));
const fromTypage = (stanzas: TypageStanza[]): Stanza[] => stanzas.map((s) => ({ type: s.args[0] ?? '', args: s.args.slice(1), body: s.body }));

export class TokenRecipient<R> implements Recipient {
  readonly recipient: R;
  constructor(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    private readonly family: TokenFamily<any, any, R, any>,
    recipient: string,
    invalid: () => Error,
  ) {
    const d = decodeFor(decodePluginRecipient, recipient, family.name, invalid);
    try {
      this.recipient = family.parseRecipient(d.data);
    } catch (cause) {
      throw Object.assign(invalid(), { cause });
    }
  }
  /** Synchronous for families whose wraps need no device. */
  wrapFileKey(fileKey: Uint8Array): TypageStanza[] | Promise<TypageStanza[]> {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let access: DeviceAccess<any> | undefined;
    const ctx = wrapContext(this.family, () => (access ??= this.family.devices()), {});
    const out = this.family.wrap(fileKey, this.recipient, ctx);
    if (Array.isArray(out)) return toTypage(out);
    return out.then(toTypage).finally(async () => {
      await ctx.closeAll();
      await access?.release().catch(() => undefined);
    });
  }
}

export interface TokenIdentityOptions {
  /** Supplies the PIN when the device requires it; reject to decline. */
  pin?: (prompt: string) => Promise<string>;
  /** Receives messages such as "Touch your …". */
  message?: (text: string) => void;
  /** Skip (return null) instead of failing when the device is not plugged in. */
  skipNotFound?: boolean;
  /** PIN sources asked before `pin` (an agent). */
  pinSources?: PinSource[];
}

export type InProcessFailure = (kind: 'identity' | 'stanza' | 'device' | 'pin', message: string) => Error;

/** The user in-process: messages to `message`, PINs from `pin`, nobody to confirm an absent device. */
function inProcessUi(opts: TokenIdentityOptions, fail: InProcessFailure): PluginUi {
  return {
    message: async (t) => opts.message?.(t),
    confirm: async () => {
      throw fail('device', 'not plugged in');
    },
    requestPublic: async () => {
      throw fail('pin', 'no user to ask');
    },
    requestSecret: async (p) => {
      if (!opts.pin) throw fail('pin', 'A PIN is required');
      return opts.pin(p);
    },
  };
}

/**
 * identity-v1 in-process for one identity (`decoded`) and one file's stanzas: the file key, null
 * when no stanza is for the identity, or the first error as `fail`. `interactive: false` fails an
 * absent device with the family's no-terminal text instead of asking.
 */
export async function unwrapInProcess<I, P, R, D extends OpenDevice>(
  family: TokenFamily<I, P, R, D>,
  decoded: Decoded,
  stanzas: TypageStanza[],
  opts: TokenIdentityOptions & { devices: () => DeviceAccess<D>; interactive?: boolean },
  fail: InProcessFailure,
): Promise<Uint8Array | null> {
  const r = await unwrapFiles(
    family,
    { identities: [decoded], files: [fromTypage(stanzas)] },
    { ui: inProcessUi(opts, fail), skipNotFound: opts.skipNotFound ?? false, interactive: opts.interactive ?? true, ...(opts.pinSources ? { pinSources: opts.pinSources } : {}) },
    opts.devices(),
  );
  const key = r.fileKeys.get(0);
  if (key) return key;
  const err = r.errors[0];
  if (err) throw fail(err.kind === 'stanza' ? 'stanza' : 'device', err.message);
  return null;
}

/** recipient-v1 in-process for one file key (families whose wraps need the device: absent devices fail). */
export async function wrapInProcess<I, P, R, D extends OpenDevice>(
  family: TokenFamily<I, P, R, D>,
  req: { recipients: Decoded[]; identities: Decoded[] },
  fileKey: Uint8Array,
  opts: TokenIdentityOptions,
  fail: InProcessFailure,
): Promise<TypageStanza[]> {
  const r = await wrapFileKeys(family, { ...req, fileKeys: [fileKey] }, { ui: inProcessUi(opts, fail), interactive: false, ...(opts.pinSources ? { pinSources: opts.pinSources } : {}) });
  if (r.errors[0]) throw fail(r.errors[0].kind === 'recipient' ? 'identity' : 'device', r.errors[0].message);
  return toTypage(r.stanzas[0]!);
}

export class TokenIdentity<I, P, R, D extends OpenDevice> implements Identity {
  private readonly decoded: Decoded;
  constructor(
    private readonly family: TokenFamily<I, P, R, D>,
    identity: string,
    private readonly opts: TokenIdentityOptions & { devices: () => DeviceAccess<D> },
    private readonly fail: InProcessFailure,
  ) {
    this.decoded = decodeFor(decodePluginIdentity, identity, family.name, () => fail('identity', family.texts.invalidIdentity));
    try {
      family.parseIdentity(this.decoded.data);
    } catch (cause) {
      throw Object.assign(fail('identity', family.texts.invalidIdentity), { cause });
    }
  }

  unwrapFileKey(stanzas: TypageStanza[]): Promise<Uint8Array | null> {
    return unwrapInProcess(this.family, this.decoded, stanzas, this.opts, this.fail);
  }
}

/** What an adapter's failure is about: `fail`'s kinds, and 'recipient' (a recipient string that is not the family's). */
export type AdapterFailure = 'recipient' | 'identity' | 'stanza' | 'device' | 'pin';

export interface ReaderIdentityOptions extends TokenIdentityOptions {
  /** The reader system (stays open: the caller owns it). */
  readers: CardReaders;
}

/**
 * The typage adapters of a family whose devices sit behind a reader system (PC/SC): a
 * `Recipient` over the family's recipient (`publicKey` is its parsed value) and an `Identity`
 * that finds its device among the caller's readers, without a plugin process. The family names
 * itself by its constructors and its error: `error(kind, message)` returns the family's error,
 * `device` names the device in "no … is needed to encrypt".
 */
export function readerAdapters<I, P, R, D extends OpenDevice>(
  family: (deps: { readers: () => Promise<CardReaders> }) => TokenFamily<I, P, R, D>,
  devices: (readers: CardReaders, release: () => Promise<void>) => DeviceAccess<D>,
  device: string,
  error: (kind: AdapterFailure, message: string) => Error,
) {
  const noReaders = async (): Promise<CardReaders> => {
    throw error('device', `no ${device} is needed to encrypt`);
  };
  class Recipient extends TokenRecipient<R> {
    constructor(recipient: string) {
      const f = family({ readers: noReaders });
      super(f, recipient, () => error('recipient', f.texts.invalidRecipient));
    }
    /** The recipient's public key as the family parses it. */
    get publicKey(): R {
      return this.recipient;
    }
  }
  class Identity extends TokenIdentity<I, P, R, D> {
    constructor(identity: string, opts: ReaderIdentityOptions) {
      const readers = opts.readers;
      super(family({ readers: async () => readers }), identity, { ...opts, devices: () => devices(readers, async () => undefined) }, error);
    }
  }
  return { Recipient, Identity };
}
