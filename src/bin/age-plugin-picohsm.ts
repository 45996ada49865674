import { pcscReaders, pluginMain } from '../plugins/kit/main.ts';
import { runCli } from '../plugins/picohsm/cli.ts';

pluginMain('age-plugin-picohsm', (io) =>
  runCli(process.argv.slice(2), io, {
    readers: pcscReaders,
    runStateMachine: async (sm, io2) => (await import('../plugins/picohsm/plugin.ts')).runStateMachine(sm, io2, pcscReaders),
  }),
);
