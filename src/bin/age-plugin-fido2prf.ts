import { pluginMain } from '../plugins/kit/main.ts';
import { runCli } from '../plugins/fido2prf/cli.ts';
import { agentRemote } from '../agent/remote.ts';

pluginMain('age-plugin-fido2prf', (io) =>
  // The session agent, when its socket is there (src/agent/remote.ts); the family never sees it.
  runCli(process.argv.slice(2), io, async (sm, io2) => (await import('../plugins/fido2prf/plugin.ts')).runStateMachine(sm, io2, agentRemote(io2.env))),
);
