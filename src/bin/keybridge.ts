import { main } from '../cli/main.ts';
import { processIo } from '../cli/io.ts';

main(process.argv.slice(2), processIo('keybridge')).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Unexpected failures: report the message only (never dump objects that may hold secrets).
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`keybridge: internal error: ${message}\n`);
    process.exitCode = 1;
  },
);
