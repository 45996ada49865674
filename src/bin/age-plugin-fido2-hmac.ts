import { processIo } from '../cli/io.ts';
import { runCli } from '../plugins/fido2-hmac/cli.ts';
import { agentRemote } from '../agent/remote.ts';

const io = processIo('age-plugin-fido2-hmac');

runCli(process.argv.slice(2), io, async (sm, io2) => (await import('../plugins/fido2-hmac/plugin.ts')).runStateMachine(sm, io2, agentRemote(io2.env))).then(
  (code) => {
    io.stdout.write('', () => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`age-plugin-fido2-hmac: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
