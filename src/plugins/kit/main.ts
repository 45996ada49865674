/**
 * The entry point of a plugin binary (`src/bin/age-plugin-X.ts`): the process's I/O in, the exit
 * code out. Kept tiny: the plugin's own code and the card access load on use.
 */
import { processIo, type Io } from '../../term/io.ts';

/**
 * Runs `run` with the process's I/O and exits with its code as soon as stdout is flushed (a state
 * machine that ended because the client went away may leave card I/O pending). Anything thrown
 * is an internal error, reported by its message only (never an object that may hold secrets).
 */
export function pluginMain(binary: string, run: (io: Io) => Promise<number>): void {
  const io = processIo(binary);
  run(io).then(
    (code) => {
      // Through io.stdout, which writes directly: process.stdout would set up node's streams.
      io.stdout.write('', () => process.exit(code));
    },
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`${binary}: internal error: ${message}\n`);
      process.exit(1);
    },
  );
}
