/**
 * native/agent.c through the kernel's own reports: /proc/<pid>/ ownership and readability for a
 * non-dumpable process, the VmLck figure and the `lo`/`dd` VmFlags of locked buffers, and the
 * SO_PEERCRED uid of a connection made by another user (nobody, via setpriv).
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, openSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentNative, nativeUnavailableReason } from '../../src/agent/native.ts';
import { ROOT, run } from '../helpers/run.ts';
import { REQUIRE_E2E } from '../helpers/tools.ts';

const reason = nativeUnavailableReason();
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync('sh', ['-c', 'command -v setpriv']).status === 0;
const ADDON = join(ROOT, 'native', 'build', 'Release', 'keybridge_native.node');

function lockedMappings(): number {
  return readFileSync('/proc/self/smaps', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('VmFlags:') && / lo( |$)/.test(l) && / dd( |$)/.test(l)).length;
}

function vmLckKb(status: string): number {
  return Number(/^VmLck:\s+(\d+) kB/m.exec(status)![1]);
}

if (reason && REQUIRE_E2E) {
  it('native agent addon is built', () => {
    throw new Error(`KEYBRIDGE_REQUIRE_E2E=1 but ${reason}`);
  });
} else if (reason) process.stderr.write(`SKIP native agent addon: ${reason}\n`);

describe.skipIf(!!reason)(`native agent addon${reason ? ` [skipped: ${reason}]` : ''}`, () => {
  it('lockedBuffer: mlock-ed, MADV_DONTDUMP pages (VmLck, smaps lo+dd); zero() wipes; bounded size', () => {
    const n = agentNative();
    const before = lockedMappings();
    const lckBefore = vmLckKb(readFileSync('/proc/self/status', 'utf8'));
    const buf = n.lockedBuffer(100);
    expect(buf.byteLength).toBe(100);
    const view = new Uint8Array(buf);
    view.set(new TextEncoder().encode('471129'));
    expect(lockedMappings()).toBe(before + 1);
    expect(vmLckKb(readFileSync('/proc/self/status', 'utf8'))).toBeGreaterThanOrEqual(lckBefore + 4);
    n.zero(view.subarray(0, 3));
    expect([...view.subarray(0, 6)]).toEqual([0, 0, 0, 0x31, 0x32, 0x39]);
    n.zero(buf);
    expect(view.every((b) => b === 0)).toBe(true);
    expect(() => n.lockedBuffer(0)).toThrow(/size must be/);
    expect(() => n.lockedBuffer(65537)).toThrow(/size must be/);
    expect(() => n.zero('x' as never)).toThrow(/expected an ArrayBuffer/);
  });

  it('a collected locked buffer is unlocked and unmapped (VmLck back to where it was)', () => {
    const script = `
      const n = require(${JSON.stringify(ADDON)});
      const lck = () => Number(/^VmLck:\\s+(\\d+)/m.exec(require('fs').readFileSync('/proc/self/status','utf8'))[1]);
      const a = lck();
      let bufs = []; for (let i = 0; i < 8; i++) bufs.push(n.lockedBuffer(4096));
      const b = lck();
      bufs = null;
      let rounds = 0;
      const settle = () => { globalThis.gc(); if (lck() === a || ++rounds > 50) console.log(JSON.stringify([a, b, lck()])); else setTimeout(settle, 20); };
      setTimeout(settle, 0);`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const [a, b, c] = JSON.parse(r.stdout) as number[];
    expect(b).toBe(a! + 32);
    expect(c).toBe(a);
  });

  it.skipIf(!isRoot || !hasSetpriv)('setNonDumpable: the process is dumpable before and not after, as /proc/<pid> shows another process of the same user', async () => {
    // A child running as nobody flips itself non-dumpable on request; a second nobody process
    // tries to read its /proc/<pid>/environ each time.
    const script = `
      const n = require(${JSON.stringify(ADDON)});
      process.stdout.write(process.pid + ' ' + n.isDumpable() + '\\n');
      process.stdin.once('data', () => { n.setNonDumpable(); process.stdout.write('set ' + n.isDumpable() + '\\n'); process.stdin.once('data', () => process.exit(0)); });`;
    const child = spawn(NOBODY[0]!, [...NOBODY.slice(1), process.execPath, '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    const next = () =>
      new Promise<string>((resolve) => {
        const tryShift = () => (lines.length ? resolve(lines.shift()!) : setTimeout(tryShift, 10));
        tryShift();
      });
    let acc = '';
    child.stdout.on('data', (d: Buffer) => {
      acc += d.toString();
      let i;
      while ((i = acc.indexOf('\n')) >= 0) {
        lines.push(acc.slice(0, i));
        acc = acc.slice(i + 1);
      }
    });
    try {
      const [pid, dumpable] = (await next()).split(' ');
      expect(dumpable).toBe('true');
      const peek = () => spawnSync(NOBODY[0]!, [...NOBODY.slice(1), 'cat', `/proc/${pid}/environ`], { encoding: 'utf8' });
      expect(peek().status).toBe(0);
      expect(statSync(`/proc/${pid}/status`).uid).toBe(65534);
      child.stdin.write('go\n');
      expect(await next()).toBe('set false');
      const denied = peek();
      expect(denied.status).not.toBe(0);
      expect(denied.stderr).toMatch(/Permission denied/);
      // The kernel hands a non-dumpable process's /proc entries to root.
      expect(statSync(`/proc/${pid}/status`).uid).toBe(0);
      expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Uid:\s+65534\s/m);
    } finally {
      child.stdin.end('x\n');
      await new Promise((r) => child.once('close', r));
    }
  });

  it.skipIf(!isRoot || !hasSetpriv)('peerCredentials: the uid, gid and pid of the connecting process (ours, then nobody)', async () => {
    const n = agentNative();
    const dir = mkdtempSync(join(tmpdir(), 'kb-peercred-'));
    chmodSync(dir, 0o755);
    const path = join(dir, 's.sock');
    const seen: { uid: number; gid: number; pid: number }[] = [];
    const server = createServer((s: Socket) => {
      const fd = (s as unknown as { _handle: { fd: number } })._handle.fd;
      seen.push(n.peerCredentials(fd));
      s.end();
    });
    await new Promise<void>((r) => server.listen(path, r));
    chmodSync(path, 0o777);
    try {
      const client = `const s = require('net').connect(${JSON.stringify(path)}); s.on('close', () => { console.log(process.pid); }); s.on('error', (e) => { console.error(e.message); process.exit(1); });`;
      // Asynchronous: the server in this process must keep accepting.
      const own = await run(process.execPath, ['-e', client]);
      expect(own.code, own.stderr).toBe(0);
      const other = await run(NOBODY[0]!, [...NOBODY.slice(1), process.execPath, '-e', client]);
      expect(other.code, other.stderr).toBe(0);
      expect(seen).toEqual([
        { uid: process.getuid!(), gid: process.getgid!(), pid: Number(own.stdout.trim()) },
        { uid: 65534, gid: 65534, pid: Number(other.stdout.trim()) },
      ]);
      expect(() => n.peerCredentials(-1)).toThrow(/non-negative/);
      const fd = openSync(join(dir, 'plain'), 'w');
      expect(() => n.peerCredentials(fd)).toThrow(/SO_PEERCRED/); // not a socket
      closeSync(fd);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
