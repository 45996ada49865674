import { pluginMain } from '../plugins/kit/main.ts';
import { agentRemote } from '../agent/remote.ts';
import type { Io } from '../term/io.ts';

/** The state machines, with the session agent when its socket is there (src/agent/remote.ts); the family never sees it. */
const stateMachine = async (name: string, io: Io) => (await import('../plugins/fido2prf/plugin.ts')).runStateMachine(name, io, agentRemote(io.env));

pluginMain('age-plugin-fido2prf', {
  stateMachine,
  loneFlags: async () => (await import('../plugins/fido2prf/about.ts')).LONE_FLAGS,
  cli: async (argv, io) => (await import('../plugins/fido2prf/cli.ts')).runCli(argv, io, stateMachine),
});
