/** Runs external programs for the demo and fails with their stderr when they fail. */
import { spawn } from 'node:child_process';

export class DemoStepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoStepError';
  }
}

export interface ExecResult {
  stdout: Buffer;
  stderr: string;
}

export function exec(
  cmd: string,
  args: readonly string[],
  opts: { input?: string | Uint8Array; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; /** run without a controlling terminal */ noTty?: boolean } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: opts.noTty ?? false });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new DemoStepError(
          e.code === 'ENOENT' ? `${cmd} is not installed (run: bash scripts/setup.sh)` : `${cmd}: ${e.message}`,
        ),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout: Buffer.concat(out), stderr });
      else
        reject(
          new DemoStepError(
            `${cmd} ${signal ? `was killed (${signal})` : `exited with ${code}`}${stderr ? `: ${stderr.trim()}` : ''}`,
          ),
        );
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}
