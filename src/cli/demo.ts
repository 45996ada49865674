/**
 * `keybridge demo`: the main job end to end on this machine, on virtual tokens: each token
 * family's step (`src/plugins/X/demo.ts`, found by the registry of src/demo/step.ts), then the
 * steps that need no token. Everything happens in a temporary directory that is removed
 * afterwards (kept with --keep).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, parseCommandArgs, write, type Command } from './io.ts';
import { HELP_OPTION, type CommandArgs } from '../term/spec.ts';
import { DemoReport } from '../demo/report.ts';
import { DemoStepError } from '../demo/exec.ts';
import { sshStep } from '../demo/sshStep.ts';
import { validateStep } from '../demo/validateStep.ts';
import { familyDemoSteps, type DemoStep } from '../demo/step.ts';

const help = (steps: DemoStep[]) => `Usage: keybridge demo [--keep]

Runs keybridge's main job end to end on this machine and explains each step:
${steps.map((s) => s.help).join('')}  - convert an SSH host key to an age recipient, encrypt with the real age, decrypt
  - build an example clan + sops-nix + agenix repo with planted faults and validate it

Options:
  --keep      keep the working directory (its path is printed) instead of removing it
  -h, --help  show this help
`;

const spec = {
  options: {
    keep: { type: 'boolean', description: 'keep the working directory (its path is printed) instead of removing it' },
    help: HELP_OPTION,
  },
} as const satisfies CommandArgs;

export const command: Command = {
  spec,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, spec.options);
    const steps = await familyDemoSteps();
    if (values.help) {
      await write(io.stdout, help(steps));
      return 0;
    }
    const dir = await mkdtemp(join(tmpdir(), 'keybridge-demo-'));
    const report = new DemoReport(io.stdout);
    try {
      await write(io.stdout, `keybridge demo (working directory ${dir})\n`);
      for (const step of steps) await step.run(dir, report);
      await sshStep(dir, report);
      await validateStep(dir, report);
      report.done();
      return 0;
    } catch (e) {
      if (e instanceof DemoStepError) throw new CliError(`demo failed: ${e.message}`);
      throw e;
    } finally {
      if (values.keep) await write(io.stdout, `Kept ${dir}\n`);
      else await rm(dir, { recursive: true, force: true });
    }
  },
};
