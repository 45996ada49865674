import { PassThrough } from 'node:stream';
import type { Io } from '../../src/cli/io.ts';

/** An in-process Io with captured stdout/stderr, for running a command without spawning it. */
export function captureIo(argv0: string): Io & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d) => (o += d));
  stderr.on('data', (d) => (e += d));
  return { stdin: new PassThrough(), stdout, stderr, env: {}, cwd: '/', argv0, out: () => o, err: () => e };
}
