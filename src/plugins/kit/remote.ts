/**
 * Where a plugin may hand its unwrap to: a session agent that holds the card connection and the
 * PIN for a batch. Injected by the plugin's entry point (the kit never imports an agent, and no
 * family knows of one); the agent relays its prompts back through `ui`.
 */
import type { Decoded } from '../../age/plugin/v1.ts';
import type { IdentityV1Error } from '../../age/plugin/server.ts';
import type { PluginUi } from '../../age/plugin/ui.ts';
import type { Stanza } from '../../age/stanza.ts';

export interface RemoteUnwrapRequest {
  family: string;
  identities: Decoded[];
  files: Stanza[][];
  /** Whether someone could be asked about an absent device (a terminal exists). */
  interactive: boolean;
  skipNotFound: boolean;
}

export interface RemoteUnwrap {
  /**
   * The result of running the unwrap remotely, or undefined when that was not possible (no agent,
   * a dead or hung one): the kit then unwraps here, exactly as without it.
   */
  unwrap(req: RemoteUnwrapRequest, ui: PluginUi, log: (line: string) => void): Promise<{ fileKeys: Map<number, Uint8Array>; errors: IdentityV1Error[] } | undefined>;
}
