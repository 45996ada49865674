/**
 * `keybridge agent` as a user runs it (the bundled CLI, real processes): --daemon returns once
 * the agent listens; status/lock/stop; SIGHUP; a stopped (hung) agent costs a client a short
 * timeout; a second agent on the same socket refuses; no addon, no agent (other commands work);
 * the agent process is non-dumpable as /proc shows, and holds nothing secret in argv or environ.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeUnavailableReason } from '../../src/agent/native.ts';
import { agentRemote } from '../../src/agent/remote.ts';
import { DIST, keybridge, run } from '../helpers/run.ts';
import { alive } from '../helpers/rigLock.ts';

const reason = nativeUnavailableReason();
const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync('sh', ['-c', 'command -v setpriv']).status === 0;
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}


describe.skipIf(!!reason)(`keybridge agent CLI${reason ? ` [skipped: ${reason}]` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kb-agent-cli-'));
  const sock = join(dir, 'run', 'agent.sock');
  const env = { ...process.env, KEYBRIDGE_AGENT_SOCK: sock };
  const pids: number[] = [];
  afterAll(() => {
    for (const p of pids) if (alive(p)) process.kill(p, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('--daemon returns once the agent listens and prints the socket for eval; status, --json, SIGHUP, lock, stop', async () => {
    const d = await keybridge(['agent', '--daemon', '--idle-timeout', '90s', '--max-lifetime', '1h'], { env });
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(new RegExp(`^KEYBRIDGE_AGENT_SOCK=${sock}; export KEYBRIDGE_AGENT_SOCK;\\necho Agent pid (\\d+);\\n$`));
    const pid = Number(/pid (\d+)/.exec(d.stdout)![1]);
    pids.push(pid);
    // Ready before the parent returned: the socket answers at once.
    const st = await keybridge(['agent', 'status', '--json'], { env });
    expect(st.code, st.stderr).toBe(0);
    const status = JSON.parse(st.stdout);
    expect(status).toMatchObject({ running: true, pid, socket: sock, idleTimeoutMs: 90_000, maxLifetimeMs: 3_600_000, devices: [] });
    expect(statSync(join(dir, 'run')).mode & 0o777).toBe(0o700);
    expect(statSync(sock).mode & 0o777).toBe(0o600);
    const logFile = join(dir, 'run', 'agent.log');
    expect(statSync(logFile).mode & 0o777).toBe(0o600);
    const human = await keybridge(['agent', 'status'], { env });
    expect(human.stdout).toContain(`running, pid ${pid}, socket ${sock}`);
    expect(human.stdout).toContain('forgets a device 1m30s after its last use, 1h after its first');

    const again = await keybridge(['agent'], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`keybridge agent: an agent is already running (pid ${pid}) at ${sock}\n`);

    process.kill(pid, 'SIGHUP');
    await waitFor(() => readFileSync(logFile, 'utf8').includes('SIGHUP: forgetting everything'));
    const lock = await keybridge(['agent', 'lock'], { env });
    expect(lock.code).toBe(0);
    expect(lock.stderr).toContain('locked');

    // A hung agent: stopped with SIGSTOP, a client gives up within its short timeout.
    process.kill(pid, 'SIGSTOP');
    try {
      const t = Date.now();
      const hung = await keybridge(['agent', 'status'], { env });
      expect(hung.code).toBe(1);
      expect(hung.stderr).toMatch(/no agent is running .*did not answer within 2000 ms/);
      expect(Date.now() - t).toBeLessThan(8000);
      // What a plugin hands its unwrap to: undefined ("decrypt by yourself") after the hello timeout.
      const remote = agentRemote(env);
      expect(remote.available?.()).toBe(true);
      const lines: string[] = [];
      const t2 = Date.now();
      const ui = { message: async () => undefined, confirm: async () => false, requestPublic: async () => '', requestSecret: async () => 'x' };
      const r = await remote.unwrap({ family: 'yubikey', identities: [], files: [[]], interactive: false, skipNotFound: true }, ui, (l) => lines.push(l));
      expect(r).toBeUndefined();
      expect(Date.now() - t2).toBeLessThan(5000);
      expect(lines.join('\n')).toMatch(/agent at .* not usable \(the agent did not answer within 1000 ms\); decrypting without it/);
    } finally {
      process.kill(pid, 'SIGCONT');
    }

    const stop = await keybridge(['agent', 'stop'], { env });
    expect(stop.code).toBe(0);
    await waitFor(() => !alive(pid));
    expect(existsSync(sock)).toBe(false);
    const none = await keybridge(['agent', 'status'], { env });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no agent is running');
    const noneJson = await keybridge(['agent', 'status', '--json'], { env });
    expect(JSON.parse(noneJson.stdout)).toMatchObject({ running: false, socket: sock });
    expect(readFileSync(logFile, 'utf8')).toMatch(/listening on .*\n[^]*lock requested[^]*stop requested[^]*stopped\n$/);
  });

  it('usage errors exit 2 with the reason', async () => {
    for (const [args, msg] of [
      [['agent', '--idle-timeout', 'soon'], "'soon' is not a duration"],
      [['agent', '--max-lifetime', '99d'], 'out of range'],
      [['agent', 'lock', '--json'], '--json goes with status'],
      [['agent', 'status', '--daemon'], 'do not go with'],
      [['agent', 'frob'], "unknown agent command 'frob'"],
    ] as const) {
      const r = await keybridge([...args], { env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(msg);
    }
    const help = await keybridge(['agent', '--help'], { env });
    expect(help.stdout).toContain('keybridge agent --daemon');
  });

  it('without the native addon the agent refuses to start and says why; other commands work', async () => {
    const pkg = join(dir, 'pkg');
    mkdirSync(pkg);
    cpSync(DIST, join(pkg, 'dist'), { recursive: true });
    const r = await run(process.execPath, [join(pkg, 'dist', 'keybridge.mjs'), 'agent'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^keybridge agent: cannot start: the native addon \(native\/build\/Release\/keybridge_native\.node\) is not built; build it with `node scripts\/build-native\.mjs`.*Without it the agent could not tell who is talking to it/);
    const d = await run(process.execPath, [join(pkg, 'dist', 'keybridge.mjs'), 'agent', '--daemon'], { env });
    expect(d.code).toBe(1);
    expect(d.stderr).toContain('cannot start: the native addon');
    const v = await run(process.execPath, [join(pkg, 'dist', 'keybridge.mjs'), 'version'], { env });
    expect(v.code).toBe(0);
  });

  it.skipIf(!isRoot || !hasSetpriv)("the agent is non-dumpable (its /proc entries belong to root, another process of its user cannot read its environ); argv and environ hold no PIN", async () => {
    // Run as nobody: for a non-root process the kernel hands /proc/<pid> to root exactly when it is non-dumpable.
    const home = join(dir, 'nobody');
    mkdirSync(home);
    chownSync(home, 65534, 65534);
    chmodSync(dir, 0o711);
    const nsock = join(home, 'run', 'agent.sock');
    const nenv = { ...process.env, KEYBRIDGE_AGENT_SOCK: nsock };
    const d = await run(NOBODY[0]!, [...NOBODY.slice(1), process.execPath, join(DIST, 'keybridge.mjs'), 'agent', '--daemon'], { env: nenv });
    expect(d.code, d.stderr).toBe(0);
    const pid = Number(/pid (\d+)/.exec(d.stdout)![1]);
    pids.push(pid);
    try {
      expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Uid:\s+65534\s/m);
      expect(statSync(`/proc/${pid}/status`).uid).toBe(0);
      const peek = await run(NOBODY[0]!, [...NOBODY.slice(1), 'cat', `/proc/${pid}/environ`]);
      expect(peek.code).not.toBe(0);
      expect(peek.stderr).toContain('Permission denied');
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect(cmdline.slice(1, 3)).toEqual([join(DIST, 'keybridge.mjs'), 'agent']);
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      expect(environ).not.toMatch(/PIN=/);
    } finally {
      await run(NOBODY[0]!, [...NOBODY.slice(1), process.execPath, join(DIST, 'keybridge.mjs'), 'agent', 'stop'], { env: nenv });
      chmodSync(dir, 0o700);
    }
  });
});
