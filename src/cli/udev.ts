/**
 * `keybridge udev`: the udev rules that let the logged-in user (and the plugdev group) open FIDO2
 * keys' hidraw nodes, so the FIDO2 plugins need no root. `show` prints them; `install` writes them
 * to /etc/udev/rules.d (atomically; a different existing file is kept as .bak), reloads udev, and
 * prints every change it makes — or only what it would do, with --dry-run.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../fs/atomicWrite.ts';
import { CliError, UsageError, parseCommandArgs, write, type Command } from './io.ts';

export const RULES_NAME = '70-keybridge-tokens.rules';

const HELP = `Usage: keybridge udev show
       keybridge udev install [--dir DIR] [--dry-run] [--no-reload]

FIDO2 keys are USB HID devices; Linux gives their /dev/hidraw* nodes to root only unless a udev
rule says otherwise. These rules give them to the logged-in user (uaccess) and the plugdev group,
for age-plugin-fido2-hmac and age-plugin-fido2prf. Smart cards (CCID) go through pcscd and need none.

Commands:
  show        print the rules
  install     write ${RULES_NAME} to DIR (default /etc/udev/rules.d; needs root),
              then run \`udevadm control --reload\` and \`udevadm trigger\` for hidraw devices;
              every change is printed

Options:
  --dir DIR     where to install (default /etc/udev/rules.d)
  --dry-run     print what would change, change nothing
  --no-reload   do not run udevadm
  -h, --help    show this help
`;

/** The rules file shipped with the package (udev/ beside dist/ or src/). */
export function shippedRules(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, '..', 'udev', RULES_NAME), join(here, '..', '..', 'udev', RULES_NAME)]) {
    if (existsSync(p)) return readFileSync(p, 'utf8');
  }
  throw new CliError(`the packaged udev/${RULES_NAME} is missing`);
}

export interface InstallStep {
  readonly action: string;
}

/** Installs the rules; returns the lines describing each change (made, or to be made). */
export async function installRules(opts: { dir: string; dryRun: boolean; reload: boolean; run?: (cmd: string, args: string[]) => Promise<void> }): Promise<string[]> {
  const rules = shippedRules();
  const target = join(opts.dir, RULES_NAME);
  const out: string[] = [];
  let current: string | undefined;
  try {
    current = readFileSync(target, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(`cannot read ${target}: ${(e as Error).message}`);
  }
  const verb = opts.dryRun ? 'would ' : '';
  if (current === rules) out.push(`unchanged: ${target}`);
  else {
    if (!existsSync(opts.dir)) throw new CliError(`${opts.dir} does not exist (is udev installed?)`);
    out.push(current === undefined ? `${verb}create ${target}` : `${verb}replace ${target} (the previous version ${opts.dryRun ? 'would be' : 'is'} kept as ${target}.bak)`);
    if (!opts.dryRun) {
      try {
        await writeFileAtomic(target, rules, { backup: true });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new CliError(code === 'EACCES' || code === 'EPERM' ? `no permission to write ${target}: run it as root (sudo keybridge udev install)` : `cannot write ${target}: ${(e as Error).message}`);
      }
    }
  }
  if (opts.reload && current !== rules) {
    const run = opts.run ?? (async (cmd: string, args: string[]) => void (await promisify(execFile)(cmd, args)));
    for (const args of [['control', '--reload'], ['trigger', '--subsystem-match=hidraw', '--action=change']]) {
      out.push(`${verb}run udevadm ${args.join(' ')}`);
      if (opts.dryRun) continue;
      try {
        await run('udevadm', args);
      } catch (e) {
        out.push(`  udevadm ${args[0]} failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the rules apply from the next boot or replug`);
        break;
      }
    }
  }
  if (!opts.dryRun && current !== rules) out.push('unplug and replug your FIDO2 keys once');
  return out;
}

export const command: Command = {
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '-h' || sub === '--help') {
      await write(sub === undefined ? io.stderr : io.stdout, HELP);
      return sub === undefined ? 2 : 0;
    }
    const { values } = parseCommandArgs(rest, {
      dir: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'no-reload': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      await write(io.stdout, HELP);
      return 0;
    }
    if (sub === 'show') {
      await write(io.stdout, shippedRules());
      return 0;
    }
    if (sub !== 'install') throw new UsageError(`unknown udev command '${sub}' (show, install)`);
    const lines = await installRules({ dir: values.dir ?? '/etc/udev/rules.d', dryRun: values['dry-run'] === true, reload: values['no-reload'] !== true });
    await write(io.stdout, lines.join('\n') + '\n');
    return 0;
  },
};
