/**
 * Where the agent's socket lives, and the checks that keep it private: a directory of its own,
 * mode 0700, owned by the user, never a symlink. `KEYBRIDGE_AGENT_SOCK=PATH` names another
 * socket (for the agent and the plugins alike); otherwise `$XDG_RUNTIME_DIR/keybridge/agent.sock`,
 * or `<tmpdir>/keybridge-<uid>/agent.sock` when XDG_RUNTIME_DIR is unset.
 */
import { chmodSync, lstatSync, mkdirSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { builtin } from '../builtin.ts';

export const SOCKET_ENV = 'KEYBRIDGE_AGENT_SOCK';
/** Longest path a Unix socket address holds on Linux (sun_path is 108 bytes with the NUL). */
const MAX_SOCKET_PATH = 107;

function uid(): number {
  return process.getuid?.() ?? -1;
}

export function socketPath(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const named = env[SOCKET_ENV];
  if (named) return isAbsolute(named) ? named : resolve(cwd, named);
  if (env.XDG_RUNTIME_DIR && isAbsolute(env.XDG_RUNTIME_DIR)) return join(env.XDG_RUNTIME_DIR, 'keybridge', 'agent.sock');
  // node:os only here: a plugin that imports this for its agent does not load it at start
  return join(builtin('node:os').tmpdir(), `keybridge-${uid()}`, 'agent.sock');
}

export class AgentPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentPathError';
  }
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * The agent's side: creates the socket's directory 0700 (parents as needed) or checks an
 * existing one: a real directory (not a symlink), owned by this user; a wider mode is tightened
 * to 0700. Anything else is refused with the reason.
 */
export function preparePrivateDir(sock: string): string {
  if (Buffer.byteLength(sock) > MAX_SOCKET_PATH) throw new AgentPathError(`the socket path ${sock} is longer than ${MAX_SOCKET_PATH} bytes; set ${SOCKET_ENV} to a shorter one`);
  const dir = dirname(sock);
  let st = lstatOrNull(dir);
  if (!st) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    st = lstatSync(dir);
  }
  if (st.isSymbolicLink()) throw new AgentPathError(`${dir} is a symbolic link; the agent's socket needs a directory of its own`);
  if (!st.isDirectory()) throw new AgentPathError(`${dir} is not a directory`);
  if (st.uid !== uid()) throw new AgentPathError(`${dir} belongs to uid ${st.uid}, not to you (uid ${uid()}); choose another socket with ${SOCKET_ENV}`);
  if ((st.mode & 0o777) !== 0o700) {
    chmodSync(dir, 0o700);
    if ((lstatSync(dir).mode & 0o777) !== 0o700) throw new AgentPathError(`${dir} cannot be made private (mode 0700)`);
  }
  return dir;
}

/**
 * The client's side: why this socket must not be trusted, or undefined. Its directory must be
 * private (no group/other access) and owned by this user, and the socket owned by this user or
 * root. (The agent additionally checks the peer's uid with SO_PEERCRED.)
 */
export function untrustedSocketReason(sock: string): string | undefined {
  const dir = dirname(sock);
  const d = lstatOrNull(dir);
  if (!d) return `${dir} does not exist`;
  if (!d.isDirectory()) return `${dir} is not a directory`;
  if (d.uid !== uid()) return `${dir} belongs to uid ${d.uid}`;
  if ((d.mode & 0o077) !== 0) return `${dir} is accessible to other users (mode ${(d.mode & 0o777).toString(8)})`;
  const s = lstatOrNull(sock);
  if (!s) return `no agent socket at ${sock}`;
  if (!s.isSocket()) return `${sock} is not a socket`;
  if (s.uid !== uid() && s.uid !== 0) return `${sock} belongs to uid ${s.uid}`;
  return undefined;
}
