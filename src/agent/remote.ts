/**
 * The plugins' side of the agent: a `RemoteUnwrap` for the kit when an agent socket is there
 * (`KEYBRIDGE_AGENT_SOCK`, else the default path), none when it is not — then a plugin behaves
 * exactly as without an agent. A dead, hung, refusing or family-less agent makes `unwrap` return
 * undefined after a short timeout, and the kit decrypts by itself.
 */
import { lstatSync } from 'node:fs';
import type { RemoteUnwrap } from '../plugins/kit/remote.ts';
import { socketPath } from './paths.ts';

export function agentRemote(env: NodeJS.ProcessEnv): RemoteUnwrap | undefined {
  const socket = socketPath(env);
  try {
    if (!lstatSync(socket).isSocket()) return undefined;
  } catch {
    return undefined;
  }
  return {
    async unwrap(req, ui, log) {
      const { AgentConnection } = await import('./client.ts');
      let c;
      try {
        c = await AgentConnection.open({ socket });
      } catch (e) {
        log(`agent at ${socket} not usable (${(e as Error).message}); decrypting without it`);
        return undefined;
      }
      try {
        log(`decrypting through the agent (pid ${c.agentPid})`);
        return await c.unwrap(req, ui);
      } catch (e) {
        if ((e as Error).name !== 'AgentUnavailable') throw e;
        log(`the agent failed (${(e as Error).message}); decrypting without it`);
        return undefined;
      } finally {
        c.close();
      }
    },
  };
}
