import { pluginMain } from '../plugins/kit/main.ts';
import { pcscReaders } from '../plugins/kit/pcscReaders.ts';
import { runCli } from '../plugins/picohsm/cli.ts';
import { agentRemote } from '../agent/remote.ts';

pluginMain('age-plugin-picohsm', (io) =>
  runCli(process.argv.slice(2), io, {
    readers: pcscReaders,
    // The session agent, when its socket is there (src/agent/remote.ts); the family never sees it.
    runStateMachine: async (sm, io2) => (await import('../plugins/picohsm/plugin.ts')).runStateMachine(sm, io2, pcscReaders, agentRemote(io2.env)),
  }),
);
