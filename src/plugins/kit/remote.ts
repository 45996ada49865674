/**
 * The one seam where a plugin's identity-v1 unwrap may run in another process: a session agent
 * that holds the card connection and the PIN for a batch. Injected by the plugin's entry point
 * (the kit never imports an agent, and no family knows of one). The request is the decoded
 * identity-v1 request as the plugin received it; the other side runs the family's own
 * `unwrapFiles` over its devices and relays its prompts back through `ui`. The kit's tests drive
 * the same seam with an in-process remote.
 */
import type { Decoded } from '../../age/plugin/v1.ts';
import type { IdentityV1Error } from '../../age/plugin/server.ts';
import type { PluginUi } from '../../age/plugin/ui.ts';
import type { Stanza } from '../../age/stanza.ts';
import type { OpenDevice, TokenFamily } from './family.ts';
import { unwrapFiles, type UnwrapEnvironment } from './identity.ts';
import type { PinSource } from './pinSource.ts';

export interface RemoteUnwrapRequest {
  family: string;
  identities: Decoded[];
  files: Stanza[][];
  /** Whether someone could be asked about an absent device (a terminal exists). */
  interactive: boolean;
  skipNotFound: boolean;
}

export interface RemoteUnwrapResult {
  fileKeys: Map<number, Uint8Array>;
  errors: IdentityV1Error[];
}

export interface RemoteUnwrap {
  /**
   * Whether to hand an unwrap to it at all (asked once an unwrap is requested, so that a start
   * that never unwraps does not look for the remote); absent means always.
   */
  available?(): boolean;
  /**
   * The result of running the unwrap remotely, or undefined when that was not possible (no agent,
   * a dead or hung one, one that does not serve the family): the kit then unwraps here, exactly
   * as without it.
   */
  unwrap(req: RemoteUnwrapRequest, ui: PluginUi, log: (line: string) => void): Promise<RemoteUnwrapResult | undefined>;
}

/**
 * The age client as a remote unwrap's prompts reach it: a PIN request is answered first by the
 * plugin's own non-interactive sources (CI), each at most once per process so a wrong PIN is
 * never repeated, then by the user.
 */
function relayUi(ui: PluginUi, sources: readonly PinSource[], family: string): PluginUi {
  const spent = new Set<PinSource>();
  return {
    message: (t) => ui.message(t),
    confirm: (t, y, n) => ui.confirm(t, y, n),
    requestPublic: (t) => ui.requestPublic(t),
    async requestSecret(prompt) {
      for (const s of sources) {
        if (s.interactive || spent.has(s)) continue;
        spent.add(s);
        const pin = await s.pin({ family, device: { key: '', label: '' }, prompt, retriesLeft: undefined });
        if (pin !== undefined) return pin;
      }
      return ui.requestSecret(prompt);
    },
  };
}

/**
 * An identity-v1 unwrap: handed to `remote` first when there is one, done here (`unwrapFiles`
 * with `env`) when there is none or it declines.
 */
export async function unwrapRequest<I, P, R, D extends OpenDevice>(
  family: TokenFamily<I, P, R, D>,
  req: { identities: Decoded[]; files: Stanza[][] },
  env: UnwrapEnvironment & { remote?: RemoteUnwrap | undefined },
): Promise<RemoteUnwrapResult> {
  if (env.remote && (env.remote.available?.() ?? true)) {
    const interactive = typeof env.interactive === 'function' ? env.interactive() : (env.interactive ?? true);
    const r = await env.remote.unwrap(
      { family: family.name, identities: req.identities, files: req.files, interactive, skipNotFound: env.skipNotFound ?? false },
      relayUi(env.ui, env.pinSources ?? [], family.name),
      env.log ?? (() => undefined),
    );
    if (r) return r;
  }
  const { remote: _, ...local } = env;
  return unwrapFiles(family, req, local);
}
