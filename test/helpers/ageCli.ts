/**
 * The real `age` CLI driving keybridge's plugin bundles: a PATH with `age-plugin-NAME` links to
 * dist/, and `age` on a pseudo-terminal (scripts/pty-run.py) answering prompts in order, the
 * answers passed through the environment so they never appear in argv.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DIST, ROOT, run, type RunResult } from './run.ts';

const PTY = `${ROOT}scripts/pty-run.py`;

/** A directory with `age-plugin-<name>` for each bundle, and an environment with it first on PATH. */
export function pluginPath(names: readonly string[], extra: NodeJS.ProcessEnv = {}): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'kb-plugins-'));
  for (const n of names) symlinkSync(`${DIST}/age-plugin-${n}.mjs`, join(dir, `age-plugin-${n}`));
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dir}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`, ...extra };
  delete env.AGEDEBUG;
  return { dir, env };
}

/** `age ARGS` on a pty; `answers` are [prompt regex, typed answer] in order. */
export function ageOnPty(args: readonly string[], env: NodeJS.ProcessEnv, answers: readonly [RegExp, string][] = [], timeoutS = 40): Promise<RunResult> {
  const flags: string[] = [];
  const e: NodeJS.ProcessEnv = { ...env };
  answers.forEach(([re, value], i) => {
    flags.push('--expect', re.source, '--send', '@env');
    e[`PTY_SEND_${i + 1}`] = value;
  });
  return run('/usr/bin/python3', [PTY, '--timeout', String(timeoutS), ...flags, '--', 'age', ...args], { env: e, noTty: true, timeoutMs: (timeoutS + 15) * 1000 });
}

/** `age ARGS` without any terminal (a new session), stdin from `input`. */
export function ageNoTty(args: readonly string[], env: NodeJS.ProcessEnv, input: string | Uint8Array = ''): Promise<RunResult> {
  return run('age', [...args], { env, input, noTty: true, timeoutMs: 60_000 });
}

/**
 * `age ARGS` on a pty where a step may act before its answer is typed: when the step's prompt
 * shows in the transcript, `before()` runs (e.g. plugs a device in), then the answer is typed
 * (pty-run's `--after` gate file). Event-driven: nothing waits a fixed time.
 */
export function ageOnPtyActing(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  steps: readonly { expect: RegExp; send: string; before?: () => Promise<void> }[],
  timeoutS = 40,
): Promise<RunResult> {
  const gates = mkdtempSync(join(tmpdir(), 'kb-pty-'));
  const flags: string[] = [];
  const e: NodeJS.ProcessEnv = { ...env };
  steps.forEach((st, i) => {
    flags.push('--expect', st.expect.source, '--send', '@env');
    if (st.before) flags.push('--after', join(gates, String(i)));
    e[`PTY_SEND_${i + 1}`] = st.send;
  });
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', [PTY, '--timeout', String(timeoutS), ...flags, '--', 'age', ...args], { env: e, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const chunks: Buffer[] = [];
    let stdout = '';
    let stderr = '';
    let next = 0;
    let from = 0;
    const advance = () => {
      while (next < steps.length) {
        const st = steps[next]!;
        const m = st.expect.exec(stdout.slice(from));
        if (!m) return;
        from += m.index + m[0].length;
        const i = next++;
        if (st.before) st.before().then(() => writeFileSync(join(gates, String(i)), ''), (err: unknown) => child.kill('SIGKILL') && reject(err));
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      chunks.push(d);
      stdout = Buffer.concat(chunks).toString('utf8');
      advance();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, stdoutBytes: Buffer.concat(chunks) }));
  });
}
