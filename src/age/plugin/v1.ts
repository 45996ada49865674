/**
 * The decoded plugin interface, as the rage `age-plugin` crate's `run_v1` offers it: before a
 * plugin sees anything, recipients (`age1<name>1…`) and identities (`AGE-PLUGIN-<NAME>-1…`) are
 * Bech32-decoded and their HRP checked here, once. A plugin receives `(index, plugin name,
 * bytes)` and returns per-file results; strings that do not decode are answered with the
 * plugin's own "invalid" texts, at the place the plugin's own errors would have been.
 *
 * Built on `runPlugin` (server.ts), which owns the wire.
 */
import type { Readable, Writable } from 'node:stream';
import { decodePluginIdentity, decodePluginRecipient } from '../bech32.ts';
import type { Stanza } from '../stanza.ts';
import { runPlugin, type IdentityV1Error, type RecipientV1Error } from './server.ts';
import type { PluginUi } from './ui.ts';

/** One recipient or identity the client added, decoded. */
export interface Decoded {
  /** Its position among the client's `add-recipient` (or `add-identity`) commands. */
  index: number;
  /** The plugin name from its HRP (lowercase): `yubikey` for `age1yubikey1…`. */
  plugin: string;
  /** The Bech32 payload. */
  data: Uint8Array;
}

export interface WrapRequest {
  recipients: Decoded[];
  identities: Decoded[];
  fileKeys: Uint8Array[];
  labelsSupported: boolean;
  ui: PluginUi;
}

export interface WrapResult {
  /** stanzas[i]: the stanzas for file key i (ignored when there are errors). */
  stanzas: Stanza[][];
  labels?: string[];
  errors?: RecipientV1Error[];
}

export interface UnwrapRequest {
  identities: Decoded[];
  /** files[i] = the stanzas of file i, in order. */
  files: Stanza[][];
  ui: PluginUi;
}

export interface UnwrapSink {
  fileKey(file: number, key: Uint8Array): Promise<void>;
  error(e: IdentityV1Error): Promise<void>;
}

/** What a plugin implements (rage's `RecipientPluginV1` / `IdentityPluginV1`). */
export interface PluginHandler {
  /** The error text for a recipient string that does not decode. */
  readonly invalidRecipient: string;
  /** The error text for an identity string that does not decode. */
  readonly invalidIdentity: string;
  wrapFileKeys?(req: WrapRequest): Promise<WrapResult>;
  /** Sends file keys and errors through `send` (file keys first, then errors, as age expects). */
  unwrapFileKeys?(req: UnwrapRequest, send: UnwrapSink): Promise<void>;
}

function decodeAll(items: string[], decode: (s: string) => { name: string; data: Uint8Array }): { ok: Decoded[]; bad: number[] } {
  const ok: Decoded[] = [];
  const bad: number[] = [];
  items.forEach((s, index) => {
    try {
      const { name, data } = decode(s);
      ok.push({ index, plugin: name, data });
    } catch {
      bad.push(index);
    }
  });
  return { ok, bad };
}

const KIND_ORDER = { recipient: 0, identity: 1, internal: 2 } as const;

/** Recipient errors in index order, then identity errors, then internal ones. */
function sortErrors(errors: RecipientV1Error[]): RecipientV1Error[] {
  return errors
    .map((e, i) => ({ e, i }))
    .sort((a, b) => KIND_ORDER[a.e.kind] - KIND_ORDER[b.e.kind] || ('index' in a.e && 'index' in b.e ? a.e.index - b.e.index : 0) || a.i - b.i)
    .map(({ e }) => e);
}

export interface RunV1Options {
  name: string;
  stateMachine: string;
  stdin: Readable | AsyncIterable<Uint8Array>;
  stdout: Writable;
  stderr: Writable;
  /** The handler, or a loader called once phase 1 is over (so the plugin's start path stays small). */
  handler: PluginHandler | (() => Promise<PluginHandler>);
}

/** Runs one state machine with decoding in front of the handler; returns the exit code. */
export function runPluginV1(opts: RunV1Options): Promise<number> {
  let loaded: Promise<PluginHandler> | undefined;
  const load = () => (loaded ??= typeof opts.handler === 'function' ? opts.handler() : Promise.resolve(opts.handler));
  return runPlugin({
    name: opts.name,
    stateMachine: opts.stateMachine,
    stdin: opts.stdin,
    stdout: opts.stdout,
    stderr: opts.stderr,
    recipient: {
      async wrapFileKeys(req) {
        const h = await load();
        if (!h.wrapFileKeys) return { stanzas: [], errors: [{ kind: 'internal', message: 'this plugin does not support recipient-v1' }] };
        const r = decodeAll(req.recipients, decodePluginRecipient);
        const i = decodeAll(req.identities, decodePluginIdentity);
        const result = await h.wrapFileKeys({ recipients: r.ok, identities: i.ok, fileKeys: req.fileKeys, labelsSupported: req.labelsSupported, ui: req.ui });
        const errors: RecipientV1Error[] = [
          ...r.bad.map((index) => ({ kind: 'recipient' as const, index, message: h.invalidRecipient })),
          ...i.bad.map((index) => ({ kind: 'identity' as const, index, message: h.invalidIdentity })),
          ...(result.errors ?? []),
        ];
        if (errors.length) return { stanzas: [], errors: sortErrors(errors) };
        return result;
      },
    },
    identity: {
      async unwrapFileKeys(req, send) {
        const h = await load();
        if (!h.unwrapFileKeys) {
          await send.error({ kind: 'internal', message: 'this plugin does not support identity-v1' });
          return;
        }
        const i = decodeAll(req.identities, decodePluginIdentity);
        // Identities that do not decode are reported where the handler's errors begin, after its file keys.
        let pending = i.bad.map((index): IdentityV1Error => ({ kind: 'identity', index, message: h.invalidIdentity }));
        const flush = async () => {
          const now = pending;
          pending = [];
          for (const e of now) await send.error(e);
        };
        await h.unwrapFileKeys(
          { identities: i.ok, files: req.files, ui: req.ui },
          {
            fileKey: (file, key) => send.fileKey(file, key),
            async error(e) {
              await flush();
              await send.error(e);
            },
          },
        );
        await flush();
      },
    },
  });
}
