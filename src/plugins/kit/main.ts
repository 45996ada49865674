/**
 * The entry point of a plugin binary (`src/bin/age-plugin-X.ts`): the process's I/O in, the exit
 * code out. Kept tiny: how age runs a plugin (`--age-plugin=NAME` alone, every time) loads the
 * state machine without the command line's code, and starts reading the client's first request
 * while it loads; a lone `--help` or `--version` is answered from the family's small module of
 * those texts (src/plugins/X/about.ts), also without the command line's code; the command line,
 * the card access and the rest load on use.
 */
import { processIo, write, type Io } from '../../term/io.ts';

/** What the command line prints for a lone flag: the text, where, and the exit code. */
export interface FlagAnswer {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  readonly code: number;
}

/** Each spelling of a flag answered without the command line (`--help`, `-h`, `--version` …), with what the command line answers to it alone. */
export type LoneFlags = Readonly<Record<string, FlagAnswer>>;

export interface PluginEntry {
  /** Runs the named state machine of the age plugin protocol; resolves with the exit code. */
  stateMachine(name: string, io: Io): Promise<number>;
  /** The family's command line (everything but a lone `--age-plugin=NAME` or a lone flag of `loneFlags`). */
  cli(argv: string[], io: Io): Promise<number>;
  /** Loads the answers to lone flags (the family's about.ts); asked only when argv is one argument. */
  loneFlags(): Promise<LoneFlags>;
}

/** The state machine named by a lone `--age-plugin=NAME` (what the flag parser gives for it). */
function protocolArgument(argv: readonly string[]): string | undefined {
  return argv.length === 1 && argv[0]!.startsWith('--age-plugin=') ? argv[0]!.slice('--age-plugin='.length) : undefined;
}

/** A lone flag's answer, printed as the command line prints it; anything else goes to the command line. */
async function commandLine(argv: string[], io: Io, entry: PluginEntry): Promise<number> {
  const flags = argv.length === 1 ? await entry.loneFlags() : undefined;
  const answer = flags && Object.hasOwn(flags, argv[0]!) ? flags[argv[0]!]! : undefined;
  if (answer === undefined) return entry.cli(argv, io);
  await write(io[answer.stream], answer.text);
  return answer.code;
}

/**
 * Runs the plugin with the process's I/O and exits with its code as soon as stdout is flushed (a
 * state machine that ended because the client went away may leave card I/O pending). Anything
 * thrown is an internal error, reported by its message only (never an object that may hold
 * secrets).
 */
export function pluginMain(binary: string, entry: PluginEntry): void {
  const argv = process.argv.slice(2);
  const stateMachine = protocolArgument(argv);
  const io = processIo(binary, { prefetchStdin: stateMachine !== undefined });
  (stateMachine !== undefined ? entry.stateMachine(stateMachine, io) : commandLine(argv, io, entry)).then(
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
