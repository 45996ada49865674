/**
 * Keeps a PC/SC connection to the card in `reader` open in a child process, as a long-lived
 * program (the session agent, scdaemon) does: while it is held, pcscd never powers the card down
 * between two plugin processes, so the card's session state (a verified PIN) carries over without
 * depending on how fast the next process starts. A child, because closing pcsclite contexts in a
 * long-lived test process can deadlock in the addon; `release()` ends it.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const HOLDER = `
const [lib, name] = [process.argv[1], process.argv[2]];
const pcsc = require(lib)();
pcsc.on('error', () => {});
pcsc.on('reader', (r) => {
  if (r.name !== name) return;
  r.on('error', () => {});
  let done = false;
  r.on('status', (s) => {
    if (done || !(s.state & r.SCARD_STATE_PRESENT)) return;
    done = true;
    r.connect({ share_mode: r.SCARD_SHARE_SHARED }, (err) => {
      if (err) { process.stderr.write(String(err.message)); process.exit(1); }
      process.stdout.write('held\\n');
    });
  });
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

export interface CardHold {
  release(): Promise<void>;
}

export function holdCard(reader: string, timeoutMs = 30_000): Promise<CardHold> {
  const lib = createRequire(import.meta.url).resolve('pcsclite');
  const child = spawn(process.execPath, ['-e', HOLDER, lib, reader], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const release = async () => {
    child.stdin.end();
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  return new Promise<CardHold>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-300)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`could not hold the card in ${reader} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('held')) {
        clearTimeout(timer);
        resolve({ release });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`holding the card in ${reader} failed (exit ${code}): ${err.trim()}`));
    });
  });
}
