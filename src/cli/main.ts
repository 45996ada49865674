import { commands } from './commands.ts';
import { CliError, UnknownOptionError, write, type Io } from './io.ts';
import { VERSION } from '../version.ts';
import { flagNames, HELP_OPTION, type OptionDefs } from '../term/spec.ts';

/** keybridge's own options, before a command (`help` is also accepted as a command). */
export const MAIN_OPTIONS = {
  help: { ...HELP_OPTION, description: 'show the commands' },
  version: { type: 'boolean', short: 'V', description: 'print the keybridge version' },
} as const satisfies OptionDefs;
const isFlag = (arg: string, name: keyof typeof MAIN_OPTIONS) => flagNames(name, MAIN_OPTIONS[name]).includes(arg);

function help(): string {
  const names = Object.keys(commands).sort();
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${commands[n]!.summary}`);
  return [
    `keybridge ${VERSION}: hardware tokens and everyday keys for age, sops, agenix and clan`,
    '',
    'Usage: keybridge <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    "Run 'keybridge <command> --help' for a command's options.",
    '',
  ].join('\n');
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || isFlag(name, 'help') || name === 'help') {
    await write(name === undefined ? io.stderr : io.stdout, help());
    return name === undefined ? 2 : 0;
  }
  if (isFlag(name, 'version')) {
    await write(io.stdout, `keybridge ${VERSION}\n`);
    return 0;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
    await write(io.stderr, `keybridge: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UnknownOptionError) {
      await write(io.stderr, `keybridge ${name}: ${err.message}; see 'keybridge ${name} --help'\n`);
      return err.exitCode;
    }
    if (err instanceof CliError) {
      await write(io.stderr, `keybridge ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
