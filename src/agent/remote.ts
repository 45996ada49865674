/**
 * The plugins' side of the agent: a `RemoteUnwrap` for the kit, available when an agent socket
 * is there (`KEYBRIDGE_AGENT_SOCK`, else the default path), looked for when the first unwrap is
 * requested (a recipient-v1 wrap never looks); when it is not there, a plugin behaves exactly as
 * without an agent. A dead, hung, refusing or family-less agent makes `unwrap` return undefined
 * after a short timeout, and the kit decrypts by itself.
 */
import { lstatSync } from 'node:fs';
import type { RemoteUnwrap } from '../plugins/kit/remote.ts';
import { socketPath } from './paths.ts';

function isSocket(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

export function agentRemote(env: NodeJS.ProcessEnv): RemoteUnwrap {
  let socket: string | undefined;
  let available: boolean | undefined;
  const path = () => (socket ??= socketPath(env));
  return {
    available: () => (available ??= isSocket(path())),
    async unwrap(req, ui, log) {
      const { AgentConnection } = await import('./client.ts');
      let c;
      try {
        c = await AgentConnection.open({ socket: path() });
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
