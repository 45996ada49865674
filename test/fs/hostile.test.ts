/**
 * Hostile filesystems, through the real CLIs: a keys.txt.bak or `-o FILE.bak` that is a symlink
 * or a FIFO, a FIFO or directory where a file belongs, unreadable files — as root and as an
 * unprivileged user (uid 65534 through setpriv, when the tests run as root). Nothing is followed,
 * nothing hangs, no temporary file is left, and the message names the path and the cause.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildExampleRepo } from '../../src/repo/exampleRepo.ts';
import { DIST, run } from '../helpers/run.ts';

const FIX = new URL('../fixtures/ssh-to-age/', import.meta.url).pathname;
const ID = 'AGE-SECRET-KEY-1K3VN4N03PTHJWSJSCCMQCN33RY5FSKQPJ4KRRTG3JMQUYE0TUSEQEDH6V8\n';
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

interface User {
  name: string;
  uid: number | undefined;
}
const users: User[] = [{ name: isRoot ? 'root' : 'the current user', uid: undefined }];
if (isRoot) users.push({ name: 'an unprivileged user (uid 65534)', uid: NOBODY });
else process.stderr.write('note: not root: the hostile-filesystem cases run as the current user only\n');

/** A scratch directory the user owns. */
function scratch(user: User): string {
  const d = mkdtempSync(join(tmpdir(), 'kb-hostile-'));
  if (user.uid !== undefined) chownSync(d, user.uid, user.uid);
  return d;
}

function own(user: User, ...paths: string[]): void {
  if (user.uid === undefined) return;
  for (const p of paths) chownSync(p, user.uid, user.uid);
}

function chownLink(user: User, p: string): void {
  if (user.uid !== undefined) execFileSync('chown', ['-h', `${user.uid}:${user.uid}`, p]);
}

/** Runs a bundled CLI as `user`, with a bound: a hang fails the test instead of stalling it. */
function cli(user: User, bin: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}) {
  const argv = [process.execPath, `${DIST}/${bin}.cjs`, ...args];
  const [cmd, ...rest] = user.uid === undefined ? argv : ['setpriv', `--reuid=${user.uid}`, `--regid=${user.uid}`, '--clear-groups', ...argv];
  return run(cmd!, rest, { env: { ...process.env, HOME: '/nonexistent', ...opts.env }, timeoutMs: 20_000, ...(opts.input !== undefined ? { input: opts.input } : {}) });
}

const temps = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

let exportFile: string;
async function bitwardenExport(): Promise<string> {
  if (exportFile) return exportFile;
  const d = mkdtempSync(join(tmpdir(), 'kb-hostile-repo-'));
  chmodSync(d, 0o755);
  const repo = await buildExampleRepo(join(d, 'repo'), { faults: true });
  chmodSync(repo.bitwardenExport, 0o644);
  exportFile = repo.bitwardenExport;
  return exportFile;
}

for (const user of users) {
  describe(`hostile filesystem, as ${user.name}`, () => {
    it('bw sync: a keys.txt.bak that is a symlink is never followed; the victim and keys.txt stay as they were', async () => {
      const exp = await bitwardenExport();
      const d = scratch(user);
      const keys = join(d, 'keys.txt');
      const victim = join(d, 'victim.txt');
      writeFileSync(keys, 'AGE-SECRET-KEY-1FOREIGNFOREIGNFOREIGN\n', { mode: 0o600 });
      writeFileSync(victim, 'precious\n', { mode: 0o644 });
      symlinkSync(victim, `${keys}.bak`);
      own(user, keys, victim);
      chownLink(user, `${keys}.bak`);
      const r = await cli(user, 'keybridge', ['bw', 'sync', '--item', 'sops-crs58-ssh', '--export', exp, '--file', keys]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${keys}.bak is a symbolic link, not a regular file; refusing to write the backup there`);
      expect(readFileSync(victim, 'utf8')).toBe('precious\n');
      expect(lstatSync(victim).mode & 0o777).toBe(0o644);
      expect(readFileSync(keys, 'utf8')).toBe('AGE-SECRET-KEY-1FOREIGNFOREIGNFOREIGN\n');
      expect(lstatSync(`${keys}.bak`).isSymbolicLink()).toBe(true);
      expect(temps(d)).toEqual([]);
    });

    it('bw sync: a FIFO as keys.txt.bak or as keys.txt is refused at once, never waited on', async () => {
      const exp = await bitwardenExport();
      const d = scratch(user);
      const keys = join(d, 'keys.txt');
      writeFileSync(keys, 'AGE-SECRET-KEY-1FOREIGNFOREIGNFOREIGN\n', { mode: 0o600 });
      execFileSync('mkfifo', [`${keys}.bak`]);
      own(user, keys, `${keys}.bak`);
      const r = await cli(user, 'keybridge', ['bw', 'sync', '--item', 'sops-crs58-ssh', '--export', exp, '--file', keys]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${keys}.bak is a FIFO, not a regular file`);
      expect(readFileSync(keys, 'utf8')).toBe('AGE-SECRET-KEY-1FOREIGNFOREIGNFOREIGN\n');
      expect(temps(d)).toEqual([]);

      const fifo = join(d, 'fifo-keys.txt');
      execFileSync('mkfifo', [fifo]);
      own(user, fifo);
      const f = await cli(user, 'keybridge', ['bw', 'sync', '--item', 'sops-crs58-ssh', '--export', exp, '--file', fifo, '--json']);
      expect(f.code).toBe(2);
      expect(JSON.parse(f.stdout)).toEqual({ error: { code: 'NOT_REGULAR_FILE', message: `${fifo} is a FIFO, not a regular file; refusing to use it (move it away first)` } });
      expect(temps(d)).toEqual([]);
    });

    it('bw sync: a directory where keys.txt belongs, and an unreadable keys.txt, are clear errors (exit 2)', async () => {
      const exp = await bitwardenExport();
      const d = scratch(user);
      const dirAsFile = join(d, 'keys.txt');
      mkdirSync(dirAsFile);
      own(user, dirAsFile);
      const r = await cli(user, 'keybridge', ['bw', 'sync', '--item', 'sops-crs58-ssh', '--export', exp, '--file', dirAsFile]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${dirAsFile} is a directory, not a regular file`);
      if (user.uid !== undefined) {
        const locked = join(d, 'locked.txt');
        writeFileSync(locked, 'AGE-SECRET-KEY-1X\n', { mode: 0o000 });
        chownSync(locked, 0, 0);
        const u = await cli(user, 'keybridge', ['bw', 'sync', '--item', 'sops-crs58-ssh', '--export', exp, '--file', locked]);
        expect(u.code).toBe(2);
        expect(u.stderr).toContain(`cannot read ${locked}: permission denied; it was left as it was`);
        const unreadableExport = join(d, 'export.json');
        writeFileSync(unreadableExport, '{}', { mode: 0o000 });
        const e = await cli(user, 'keybridge', ['bw', 'derive', 'x', '--export', unreadableExport]);
        expect([e.code, e.stderr.trim()]).toEqual([2, `keybridge bw: cannot read the Bitwarden export ${unreadableExport}: permission denied`]);
      }
    });

    it('ssh-to-age -o: a FILE.bak symlink is not followed; a FIFO nobody reads is an error, not a hang; a directory is refused', async () => {
      const d = scratch(user);
      const out = join(d, 'id.txt');
      const victim = join(d, 'victim.txt');
      writeFileSync(out, 'AGE-SECRET-KEY-1OLDOLDOLD\n', { mode: 0o600 });
      writeFileSync(victim, 'precious\n');
      symlinkSync(victim, `${out}.bak`);
      own(user, out, victim);
      chownLink(user, `${out}.bak`);
      const r = await cli(user, 'ssh-to-age', ['-private-key', '-i', `${FIX}id_ed25519`, '-o', out]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`failed to create ${out}: ${out}.bak is a symbolic link, not a regular file; refusing to write the backup there`);
      expect(readFileSync(victim, 'utf8')).toBe('precious\n');
      expect(readFileSync(out, 'utf8')).toBe('AGE-SECRET-KEY-1OLDOLDOLD\n');
      expect(temps(d)).toEqual([]);

      const fifo = join(d, 'fifo');
      execFileSync('mkfifo', [fifo]);
      own(user, fifo);
      const f = await cli(user, 'ssh-to-age', ['-private-key', '-i', `${FIX}id_ed25519`, '-o', fifo]);
      expect([f.code, f.stderr.trim()]).toEqual([1, `ssh-to-age: failed to create ${fifo}: ${fifo} is a FIFO that no process is reading`]);

      const sub = join(d, 'sub');
      mkdirSync(sub);
      own(user, sub);
      const g = await cli(user, 'ssh-to-age', ['-i', `${FIX}id_ed25519.pub`, '-o', sub]);
      expect(g.code).toBe(1);
      expect(g.stderr).toContain(`failed to create ${sub}: is a directory`);
      // and the normal case still works, with mode 0600 and the old key kept as .bak
      const fresh = join(d, 'fresh.txt');
      writeFileSync(fresh, 'AGE-SECRET-KEY-1OLD\n', { mode: 0o644 });
      own(user, fresh);
      const ok = await cli(user, 'ssh-to-age', ['-private-key', '-i', `${FIX}id_ed25519`, '-o', fresh]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(readFileSync(fresh, 'utf8')).toBe(ID);
      expect(lstatSync(fresh).mode & 0o777).toBe(0o600);
      expect(readFileSync(`${fresh}.bak`, 'utf8')).toBe('AGE-SECRET-KEY-1OLD\n');
      if (user.uid !== undefined) expect(lstatSync(fresh).uid).toBe(user.uid);
      expect(temps(d)).toEqual([]);
    });

    it('ssh-to-age -i: /dev/zero, a FIFO and an unreadable file end with a bounded error', async () => {
      const zero = await cli(user, 'ssh-to-age', ['-i', '/dev/zero']);
      expect(zero.code).toBe(1);
      expect(zero.stderr.length).toBeLessThan(300);
      expect(zero.stderr).toContain('/dev/zero, line 1: the line is longer than 1048576 characters');
      const zeroPriv = await cli(user, 'ssh-to-age', ['-private-key', '-i', '/dev/zero']);
      expect([zeroPriv.code, zeroPriv.stderr.trim()]).toEqual([1, 'ssh-to-age: /dev/zero is larger than 1048576 bytes: not a private key']);
      if (user.uid !== undefined) {
        const d = scratch(user);
        const secret = join(d, 'root-only');
        writeFileSync(secret, readFileSync(`${FIX}id_ed25519`), { mode: 0o600 });
        const r = await cli(user, 'ssh-to-age', ['-private-key', '-i', secret]);
        expect([r.code, r.stderr.trim()]).toEqual([1, `ssh-to-age: error reading ${secret}: permission denied`]);
      }
    });
  });
}

describe('temporary files on every exit path', () => {
  it('SIGTERM, SIGINT or SIGHUP while a file is being written leaves no temporary file and the old content', async () => {
    const d = mkdtempSync(join(tmpdir(), 'kb-hostile-sig-'));
    const script = join(d, 'writer.mts');
    // A slow writer: a big secret, so the signal lands while the temporary file exists.
    writeFileSync(
      script,
      `import { writeFileAtomic } from ${JSON.stringify(new URL('../../src/fs/atomicWrite.ts', import.meta.url).pathname)};\n` +
        `process.stdout.write('ready\\n');\n` +
        `for (;;) await writeFileAtomic(process.argv[2], Buffer.alloc(64 << 20, 0x41), { secret: true });\n`,
    );
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      const target = join(d, `keys-${signal}.txt`);
      writeFileSync(target, 'old\n', { mode: 0o600 });
      const { spawn } = await import('node:child_process');
      const child = spawn(process.execPath, ['--import', 'tsx', script, target], { cwd: new URL('../..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
      // wait until a temporary file exists, then signal
      const deadline = Date.now() + 30_000;
      while (!readdirSync(d).some((f) => f.startsWith(`.keys-${signal}.txt.`) && f.endsWith('.tmp'))) {
        if (Date.now() > deadline) throw new Error('the writer never created its temporary file');
        await new Promise((r) => setTimeout(r, 5));
      }
      child.kill(signal);
      expect(await exited).toBe(signal); // it still dies of the signal
      expect(readdirSync(d).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      const now = readFileSync(target);
      expect(now.equals(Buffer.from('old\n')) || now.equals(Buffer.alloc(64 << 20, 0x41))).toBe(true);
    }
    expect(existsSync(join(d, 'keys-SIGTERM.txt'))).toBe(true);
  }, 120_000);
});
