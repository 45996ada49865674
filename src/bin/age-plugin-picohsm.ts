import { pluginMain } from '../plugins/kit/main.ts';
import { pcscReaders } from '../plugins/kit/pcscReaders.ts';
import { agentRemote } from '../agent/remote.ts';
import type { Io } from '../term/io.ts';

/** The state machines, with the session agent when its socket is there (src/agent/remote.ts); the family never sees it. */
const stateMachine = async (name: string, io: Io) => (await import('../plugins/picohsm/plugin.ts')).runStateMachine(name, io, pcscReaders, agentRemote(io.env));

pluginMain('age-plugin-picohsm', {
  stateMachine,
  loneFlags: async () => (await import('../plugins/picohsm/about.ts')).LONE_FLAGS,
  cli: async (argv, io) => (await import('../plugins/picohsm/cli.ts')).runCli(argv, io, { readers: pcscReaders, runStateMachine: stateMachine }),
});
