/**
 * The real `age` CLI on a pseudo-terminal (it reads plugin PINs from /dev/tty), answering its
 * prompts in order; answers travel through the environment (scripts/pty-run.py), never argv.
 */
import { ROOT, run, type RunResult } from './run.ts';

const PTY = `${ROOT}scripts/pty-run.py`;

export function ageOnPty(env: NodeJS.ProcessEnv, args: string[], answers: [RegExp, string][] = [], timeout = 30): Promise<RunResult> {
  const flags: string[] = [];
  const e: NodeJS.ProcessEnv = { ...env };
  answers.forEach(([re, value], i) => {
    flags.push('--expect', re.source, '--send', '@env');
    e[`PTY_SEND_${i + 1}`] = value;
  });
  return run('python3', [PTY, '--timeout', String(timeout), ...flags, '--', 'age', ...args], { env: e, noTty: true, timeoutMs: (timeout + 10) * 1000 });
}
