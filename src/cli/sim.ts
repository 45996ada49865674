/**
 * `keybridge sim <token>`: a virtual token from the registry (src/sim/tokens.ts) that plugs into
 * pcscd's vpcd reader and stays until stopped (Ctrl-C / SIGTERM). Its state persists in a 0600
 * file, so it survives restarts like a real one.
 */
import { FlagError } from '../term/flags.ts';
import { CliError, UsageError, parseCommandArgs, write, type Command, type Io } from './io.ts';
import type { VirtualTokenKind } from '../sim/token.ts';
import { HELP_OPTION, type CommandArgs, type OptionDefs } from '../term/spec.ts';

function help(kinds: VirtualTokenKind[]): string {
  const width = Math.max(...kinds.map((k) => k.name.length));
  return `Usage: keybridge sim <token> [options]

Runs a virtual token that real clients see as the device it imitates, until Ctrl-C or SIGTERM.

Tokens:
${kinds.map((k) => `  ${k.name.padEnd(width)}  ${k.summary}`).join('\n')}

Run 'keybridge sim <token> --help' for a token's options.
`;
}

/** Waits for Ctrl-C or SIGTERM. */
export function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export function portOf(v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError('--port needs a number up to 65535');
  return Number(v);
}

/** What every `keybridge sim <token>` takes besides the token's own options. */
const COMMON = {
  port: { type: 'string', value: 'P', description: "vpcd port to connect to (default: the token's first reader slot)" },
  host: { type: 'string', value: 'H', description: 'vpcd host (default 127.0.0.1)' },
  help: HELP_OPTION,
} as const satisfies OptionDefs;

/** A token's options as `keybridge sim <token>` parses them. */
const optionsOf = (kind: VirtualTokenKind): OptionDefs => ({ ...kind.flags, ...COMMON });

async function spec(): Promise<CommandArgs> {
  const { virtualTokens } = await import('../sim/tokens.ts');
  const kinds = await virtualTokens();
  return { options: { help: HELP_OPTION }, subcommands: kinds.map((k) => ({ name: k.name, summary: k.summary, options: optionsOf(k) })) };
}

export const command: Command = {
  spec,
  async run(argv, io: Io) {
    const { virtualTokens } = await import('../sim/tokens.ts');
    const kinds = await virtualTokens();
    const [name, ...rest] = argv;
    if (name === '-h' || name === '--help' || name === undefined) {
      await write(name === undefined ? io.stderr : io.stdout, help(kinds));
      return name === undefined ? 2 : 0;
    }
    const kind = kinds.find((k) => k.name === name);
    if (!kind) throw new UsageError(`unknown virtual token '${name}' (available: ${kinds.map((k) => k.name).join(', ')})`);
    const { values: parsed } = parseCommandArgs(rest, optionsOf(kind));
    const values = parsed as Record<string, string | boolean | undefined>;
    if (values.help) {
      await write(io.stdout, kind.help);
      return 0;
    }
    const port = portOf(values.port as string | undefined, kind.reader?.port ?? kind.tcp?.port ?? 0);
    let running;
    try {
      running = await kind.start(values, {
        port,
        log: (l) => io.stderr.write(`${l}\n`),
        ...(typeof values.host === 'string' ? { host: values.host } : {}),
      });
    } catch (e) {
      if (e instanceof FlagError) throw new UsageError(e.message);
      throw new CliError((e as Error).message);
    }
    const state = typeof values.state === 'string' ? ` (state in ${values.state})` : '';
    await write(io.stderr, `${running.label} ${running.version ? `${running.version} ` : ''}${running.id} ${running.where ?? `plugged into vpcd port ${port}`}${state}; Ctrl-C to unplug\n`);
    await untilStopped();
    await running.stop();
    await write(io.stderr, `${running.label} unplugged\n`);
    return 0;
  },
};
