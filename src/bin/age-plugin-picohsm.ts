import { processIo } from '../term/io.ts';
import { runCli } from '../plugins/picohsm/cli.ts';
import { agentRemote } from '../agent/remote.ts';

const io = processIo('age-plugin-picohsm');
const openReaders = async () => (await import('../transport/pcsc.ts')).openPcsc();

runCli(process.argv.slice(2), io, {
  readers: openReaders,
  // The session agent, when its socket is there (src/agent/remote.ts); the family never sees it.
  runStateMachine: async (sm, io2) => (await import('../plugins/picohsm/plugin.ts')).runStateMachine(sm, io2, openReaders, agentRemote(io2.env)),
}).then(
  (code) => {
    // Exit now: a state machine that ended because the client went away may leave card I/O pending.
    // (Through io.stdout, which writes directly: process.stdout would set up node's streams.)
    io.stdout.write('', () => process.exit(code));
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`age-plugin-picohsm: internal error: ${message}\n`);
    process.exit(1);
  },
);
