/**
 * Demo step: build an example clan + sops-nix + agenix repo (real age encryption) with a few
 * planted faults, run `keybridge validate` on it, and check every fault is reported.
 */
import { join } from 'node:path';
import { buildExampleRepo } from '../repo/exampleRepo.ts';
import { keybridgeArgv } from './paths.ts';
import { DemoStepError } from './exec.ts';
import type { DemoReport } from './report.ts';

export async function validateStep(dir: string, report: DemoReport): Promise<void> {
  report.heading('Validate an example secrets repo (clan + sops-nix + agenix, with planted faults)');
  const repo = await buildExampleRepo(join(dir, 'example-repo'), { faults: true });
  report.info(`built ${repo.root}: users crs58, raquel; machines cinnabar, electrum, stibnite, galena;`);
  report.info(`planted ${repo.faults.length} faults: ${repo.faults.map((f) => `${f.kind} (${f.subject})`).join(', ')}`);
  const [node, kb] = keybridgeArgv();
  const args = ['validate', repo.root, '--keys', repo.keysTxt, '--bw-export', repo.bitwardenExport];
  report.command(['keybridge', ...args]);
  const { spawnSync } = await import('node:child_process');
  const res = spawnSync(node, [kb, ...args], { encoding: 'utf8' });
  if (res.status !== 1) throw new DemoStepError(`keybridge validate exited with ${res.status}: ${res.stderr}`);
  const out = res.stdout;
  report.info(out);
  const reported = Number(/(\d+) problem\(s\):/.exec(out)?.[1] ?? 0);
  if (reported !== repo.faults.length) throw new DemoStepError(`expected ${repo.faults.length} problems, validate reported ${reported}`);
  report.ok(`all ${repo.faults.length} planted faults reported (exit status 1), each with the command that fixes it`);
}
