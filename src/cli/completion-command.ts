/**
 * `keybridge completion bash|zsh|fish`: the completion script for every keybridge executable
 * (keybridge, ssh-to-age, the age plugins), generated from their option definitions.
 */
import { UsageError, parseCommandArgs, write, type Command } from './io.ts';
import { HELP_OPTION, type CommandArgs } from '../term/spec.ts';
import { SHELLS, completionScript, type Shell } from './completion.ts';

const HELP = `Usage: keybridge completion bash|zsh|fish

Prints the shell completion script for keybridge, ssh-to-age and every age plugin it installs.

  bash   source <(keybridge completion bash)          (e.g. in ~/.bashrc)
  zsh    source <(keybridge completion zsh)           (after compinit, e.g. in ~/.zshrc)
  fish   keybridge completion fish | source          (e.g. in ~/.config/fish/config.fish)

The npm and Nix packages also install these as files where each shell finds them.

Options:
  -h, --help  show this help
`;

const spec = {
  positionals: [{ name: 'SHELL', choices: SHELLS, description: 'bash, zsh or fish' }],
  options: { help: HELP_OPTION },
} as const satisfies CommandArgs;

export const command: Command = {
  spec,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, spec.options, true);
    if (values.help) {
      await write(io.stdout, HELP);
      return 0;
    }
    const [shell, ...extra] = positionals;
    if (shell === undefined || extra.length || !(SHELLS as readonly string[]).includes(shell)) {
      throw new UsageError(`name one shell: bash, zsh or fish (got ${shell === undefined ? 'none' : `'${[shell, ...extra].join(' ').slice(0, 40)}'`})`);
    }
    const { programs } = await import('./programs.ts');
    await write(io.stdout, completionScript(shell as Shell, await programs()));
    return 0;
  },
};
