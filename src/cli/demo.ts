/**
 * `keybridge demo`: the main job end to end on this machine, with a virtual YubiKey when no
 * token is plugged in. Everything happens in a temporary directory that is removed afterwards
 * (kept with --keep).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, parseCommandArgs, write, type Command } from './io.ts';
import { HELP_OPTION, type CommandArgs } from '../term/spec.ts';
import { DemoReport } from '../demo/report.ts';
import { DemoStepError } from '../demo/exec.ts';
import { sshStep } from '../demo/sshStep.ts';
import { yubikeyStep } from '../demo/yubikeyStep.ts';
import { picohsmStep } from '../demo/picohsmStep.ts';
import { validateStep } from '../demo/validateStep.ts';
import { fido2Step } from '../demo/fido2Step.ts';

const HELP = `Usage: keybridge demo [--keep]

Runs keybridge's main job end to end on this machine and explains each step:
  - plug a virtual YubiKey into pcscd (no hardware needed; a real token is never modified)
  - generate an age identity on it with age-plugin-yubikey
  - encrypt with the real age CLI and decrypt with age -d through the plugin
  - plug a virtual Pico HSM, generate an X25519 key on it with age-plugin-picohsm, encrypt with
    stock age (no plugin), decrypt with age -d through the plugin
  - the same with a virtual FIDO2 key (CTAP2 hmac-secret) and age-plugin-fido2-hmac
  - convert an SSH host key to an age recipient, encrypt with the real age, decrypt
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
    if (values.help) {
      await write(io.stdout, HELP);
      return 0;
    }
    const dir = await mkdtemp(join(tmpdir(), 'keybridge-demo-'));
    const report = new DemoReport(io.stdout);
    try {
      await write(io.stdout, `keybridge demo (working directory ${dir})\n`);
      await yubikeyStep(dir, report);
      await picohsmStep(dir, report);
      await fido2Step(dir, report);
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
