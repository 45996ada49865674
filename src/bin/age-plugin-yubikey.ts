import { pluginMain } from '../plugins/kit/main.ts';
import { pcscReaders } from '../plugins/kit/pcscReaders.ts';
import { agentRemote } from '../agent/remote.ts';
import type { Io } from '../term/io.ts';

/** The state machines, with the session agent when its socket is there (src/agent/remote.ts); the family never sees it. */
async function stateMachine(name: string, io: Io): Promise<number> {
  const { runStateMachine } = await import('../plugins/yubikey/plugin.ts');
  try {
    return await runStateMachine(name, io, pcscReaders, agentRemote(io.env));
  } catch (e) {
    throw (await import('../plugins/yubikey/errors.ts')).translateTransportError(e);
  }
}

pluginMain('age-plugin-yubikey', {
  stateMachine,
  loneFlags: async () => (await import('../plugins/yubikey/about.ts')).LONE_FLAGS,
  cli: async (argv, io) => (await import('../plugins/yubikey/cli.ts')).runCli(argv, io, { readers: pcscReaders, runStateMachine: stateMachine }),
});
