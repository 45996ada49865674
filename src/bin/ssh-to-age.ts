import { basename } from 'node:path';
import { runSshToAge } from '../cli/ssh-to-age.ts';
import { CliError, processIo } from '../cli/io.ts';

// Messages are prefixed with the program name, as the reference does (`<argv0>: <message>`).
const argv0 = basename(process.argv[1] ?? 'ssh-to-age').replace(/\.[cm]js$/, '');

runSshToAge(process.argv.slice(2), processIo(argv0)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(err instanceof CliError ? `${argv0}: ${message}\n` : `${argv0}: internal error: ${message}\n`);
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  },
);
