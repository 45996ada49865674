import { commands } from './commands.ts';
import { isCliError, write, type Io } from './io.ts';
import { VERSION } from '../version.ts';

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
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    await write(name === undefined ? io.stderr : io.stdout, help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
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
    if (isCliError(err)) {
      await write(io.stderr, `keybridge ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
