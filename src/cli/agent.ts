/**
 * `keybridge agent`: the session agent that makes a batch of decryptions cost one PIN.
 *
 *   keybridge agent [--daemon] [--idle-timeout 15m] [--max-lifetime 2h]
 *   keybridge agent status [--json] | lock | stop
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AgentConnection, AgentUnavailable } from '../agent/client.ts';
import { DEFAULT_LIMITS, type CacheLimits } from '../agent/deviceCache.ts';
import { agentNative, nativeUnavailableReason } from '../agent/native.ts';
import { preparePrivateDir, socketPath, SOCKET_ENV } from '../agent/paths.ts';
import type { AgentStatus } from '../agent/protocol.ts';
import { VERSION } from '../version.ts';
import { CliError, UsageError, parseCommandArgs, write, type Command, type Io } from './io.ts';

const HELP = `Usage: keybridge agent [options]          run the agent in the foreground
       keybridge agent --daemon [options] start it in the background (prints the socket)
       keybridge agent status [--json]    is it running, what does it remember
       keybridge agent lock               forget every PIN and release the cards now
       keybridge agent stop               forget everything and exit

The agent keeps what a batch of decryptions needs between age-plugin processes: the card
connection (so a PIN verified with policy "once" stays verified), the PIN of slots that need it
for every decryption (in locked memory), per device, until the device has been idle for
--idle-timeout or known for --max-lifetime. PINs never leave it: the plugins forward the
decryption, the agent relays prompts back through them, and they get only the result. Only your
own user (or root) can talk to it. Without a running agent the plugins work exactly as before.

Socket: $${SOCKET_ENV}, else $XDG_RUNTIME_DIR/keybridge/agent.sock, else a private directory in
/tmp; its directory is created with mode 0700. SIGHUP makes the agent forget everything.

Options:
  --daemon              detach; returns once the agent listens, printing
                        ${SOCKET_ENV}=…; export ${SOCKET_ENV}; for eval
  --idle-timeout DUR    forget a device this long after its last use (default 15m)
  --max-lifetime DUR    forget a device this long after its first use (default 2h)
  --socket PATH         the socket (default as above)
  --json                (status) machine-readable output
  -h, --help            show this help

DUR: a number with a unit: 500ms, 90s, 15m, 2h, 1d (bare numbers are seconds).
Exit status: 0 ok; 1 the agent cannot start, or (status/lock/stop) no agent is running; 2 usage.
`;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string, what: string, min: number, max: number): number {
  const m = /^(\d{1,9})(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${what}: '${text.slice(0, 32)}' is not a duration (e.g. 90s, 15m, 2h)`);
  const ms = Number(m[1]) * UNITS[m[2] ?? 's']!;
  if (ms < min || ms > max) throw new UsageError(`${what}: ${text} is out of range (${formatDuration(min)} to ${formatDuration(max)})`);
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s / 60}m`;
  const h = Math.floor(s / 3600);
  const rest = Math.round((s % 3600) / 60);
  return rest ? `${h}h${rest}m` : `${h}h`;
}

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Opens the daemon's log file: created 0600, appended, never through a symlink. */
function openLog(sock: string): number {
  return openSync(join(dirname(sock), 'agent.log'), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
}

async function runningAgent(sock: string): Promise<AgentConnection | null> {
  try {
    return await AgentConnection.open({ socket: sock, connectTimeoutMs: 1000 });
  } catch {
    return null;
  }
}

async function serve(io: Io, sock: string, limits: CacheLimits, readyFd: number | undefined): Promise<number> {
  const ready = (line: string) => {
    if (readyFd === undefined) return;
    try {
      writeSync(readyFd, line + '\n');
      closeSync(readyFd);
    } catch {
      /* the parent went away */
    }
    readyFd = undefined;
  };
  const reason = nativeUnavailableReason();
  if (reason) {
    ready(`error cannot start: ${reason}`);
    throw new CliError(`cannot start: ${reason}. Without it the agent could not tell who is talking to it, so it does not run; everything else works without it.`);
  }
  const native = agentNative();
  native.setNonDumpable();
  const existing = await runningAgent(sock);
  if (existing) {
    const pid = existing.agentPid;
    existing.close();
    ready(`error an agent is already running (pid ${pid}) at ${sock}`);
    throw new CliError(`an agent is already running (pid ${pid}) at ${sock}`);
  }
  const log = (line: string) => io.stderr.write(`${timestamp()} keybridge-agent[${process.pid}]: ${line}\n`);
  const { startAgentServer } = await import('../agent/server.ts');
  const { agentFamilies } = await import('../agent/families.ts');
  let stopped!: () => void;
  const done = new Promise<void>((r) => (stopped = r));
  let server;
  try {
    server = await startAgentServer({
      socket: sock,
      limits,
      families: await agentFamilies(io.env, log),
      native,
      openReaders: async () => (await import('../transport/pcsc.ts')).openPcsc(),
      version: VERSION,
      log,
      onStop: () => stopped(),
    });
  } catch (e) {
    ready(`error ${(e as Error).message}`);
    throw new CliError(`cannot start: ${(e as Error).message}`);
  }
  log(`listening on ${sock} (idle timeout ${formatDuration(limits.idleMs)}, max lifetime ${formatDuration(limits.maxLifetimeMs)})`);
  const onHup = () => {
    log('SIGHUP: forgetting everything');
    server.lock('sighup');
  };
  const onTerm = (sig: string) => () => {
    log(`${sig}: stopping`);
    stopped();
  };
  const term = onTerm('SIGTERM');
  const int = onTerm('SIGINT');
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', term);
  process.on('SIGINT', int);
  ready(`ready ${process.pid}`);
  await done;
  process.off('SIGHUP', onHup);
  process.off('SIGTERM', term);
  process.off('SIGINT', int);
  await server.close();
  log('stopped');
  // Everything is released; do not wait for native handles (PC/SC threads) to wind down.
  setTimeout(() => process.exit(0), 100).unref();
  return 0;
}

/** Starts the agent detached and returns once it listens (or says why it could not). */
async function daemonize(io: Io, sock: string, argv: string[]): Promise<number> {
  preparePrivateDir(sock);
  const logFd = openLog(sock);
  const args = [process.argv[1]!, 'agent', ...argv.filter((a) => a !== '--daemon'), '--socket', sock, '--ready-fd', '3'];
  const child = spawn(process.execPath, [...process.execArgv, ...args], {
    detached: true,
    stdio: ['ignore', logFd, logFd, 'pipe'],
    env: io.env,
    cwd: '/',
  });
  closeSync(logFd);
  const pipe = child.stdio[3] as NodeJS.ReadableStream;
  const line = await new Promise<string>((resolve) => {
    let acc = '';
    const t = setTimeout(() => resolve('error the agent did not report readiness within 15 s'), 15_000);
    pipe.on('data', (d: Buffer) => {
      acc += d.toString('utf8');
      if (acc.includes('\n')) {
        clearTimeout(t);
        resolve(acc.slice(0, acc.indexOf('\n')));
      }
    });
    pipe.on('end', () => {
      clearTimeout(t);
      resolve(acc || `error the agent exited before it was ready (see ${join(dirname(sock), 'agent.log')})`);
    });
    child.on('error', (e) => resolve(`error ${e.message}`));
  });
  (pipe as unknown as { destroy(): void }).destroy();
  child.unref();
  if (!line.startsWith('ready ')) throw new CliError(line.replace(/^error /, '').slice(0, 500));
  const pid = line.slice(6);
  await write(io.stdout, `${SOCKET_ENV}=${sock}; export ${SOCKET_ENV};\necho Agent pid ${pid};\n`);
  await write(io.stderr, `keybridge agent: running (pid ${pid}), socket ${sock}, log ${join(dirname(sock), 'agent.log')}\n`);
  return 0;
}

function describeStatus(s: AgentStatus, now = Date.now()): string {
  const lines = [
    `keybridge agent ${s.version}: running, pid ${s.pid}, socket ${s.socket}`,
    `  up ${formatDuration(now - s.startedAt)}; forgets a device ${formatDuration(s.idleTimeoutMs)} after its last use, ${formatDuration(s.maxLifetimeMs)} after its first`,
    `  token families: ${s.families.length ? s.families.join(', ') : 'none'}`,
  ];
  if (s.devices.length === 0) lines.push('  remembers no device');
  for (const d of s.devices) {
    const what = [d.secrets ? `${d.secrets} secret${d.secrets > 1 ? 's' : ''} held` : 'card session held', `forgotten in ${formatDuration(Math.max(0, d.expiresAt - now))}`];
    lines.push(`  ${d.id}: ${what.join(', ')}${d.readers.length ? ` (${d.readers.join(', ')})` : ''}`);
  }
  return lines.join('\n') + '\n';
}

async function control(io: Io, sock: string, action: 'status' | 'lock' | 'stop', json: boolean): Promise<number> {
  let c: AgentConnection;
  try {
    c = await AgentConnection.open({ socket: sock, connectTimeoutMs: 2000 });
  } catch (e) {
    const reason = e instanceof AgentUnavailable ? e.message : String(e);
    if (json && action === 'status') {
      await write(io.stdout, JSON.stringify({ running: false, socket: sock, reason }) + '\n');
      return 1;
    }
    throw new CliError(`no agent is running at ${sock} (${reason}); start one with \`keybridge agent --daemon\``);
  }
  try {
    if (action === 'status') {
      const s = await c.status();
      await write(io.stdout, json ? JSON.stringify({ running: true, ...s }) + '\n' : describeStatus(s));
    } else if (action === 'lock') {
      await c.lock();
      await write(io.stderr, 'keybridge agent: locked (every PIN forgotten, cards released)\n');
    } else {
      await c.stop();
      await write(io.stderr, `keybridge agent: stopped (pid ${c.agentPid})\n`);
    }
    return 0;
  } catch (e) {
    throw new CliError(`${action}: ${(e as Error).message}`);
  } finally {
    c.close();
  }
}

export const command: Command = {
  async run(argv: string[], io: Io) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        daemon: { type: 'boolean' },
        'idle-timeout': { type: 'string' },
        'max-lifetime': { type: 'string' },
        socket: { type: 'string' },
        json: { type: 'boolean' },
        'ready-fd': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      true,
    );
    if (values.help) {
      await write(io.stdout, HELP);
      return 0;
    }
    if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]!.slice(0, 64)}'`);
    const action = positionals[0];
    const sock = values.socket ?? socketPath(io.env, io.cwd);
    if (action !== undefined) {
      if (action !== 'status' && action !== 'lock' && action !== 'stop') throw new UsageError(`unknown agent command '${action.slice(0, 64)}' (expected status, lock or stop)`);
      if (values.daemon || values['idle-timeout'] || values['max-lifetime']) throw new UsageError(`--daemon, --idle-timeout and --max-lifetime start an agent; they do not go with '${action}'`);
      if (values.json && action !== 'status') throw new UsageError('--json goes with status');
      return control(io, sock, action, values.json ?? false);
    }
    if (values.json) throw new UsageError('--json goes with status');
    const limits: CacheLimits = {
      idleMs: values['idle-timeout'] ? parseDuration(values['idle-timeout'], '--idle-timeout', 100, 7 * 86_400_000) : DEFAULT_LIMITS.idleMs,
      maxLifetimeMs: values['max-lifetime'] ? parseDuration(values['max-lifetime'], '--max-lifetime', 100, 30 * 86_400_000) : DEFAULT_LIMITS.maxLifetimeMs,
    };
    if (values.daemon) {
      const reason = nativeUnavailableReason();
      if (reason) throw new CliError(`cannot start: ${reason}`);
      return daemonize(io, sock, argv);
    }
    let readyFd: number | undefined;
    if (values['ready-fd'] !== undefined) {
      readyFd = Number(values['ready-fd']);
      if (!Number.isInteger(readyFd) || readyFd < 3 || readyFd > 1024) throw new UsageError('--ready-fd: expected a file descriptor number');
    }
    return serve(io, sock, limits, readyFd);
  },
};
