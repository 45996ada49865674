/**
 * The agent's native addon (native/agent.c, built at install by scripts/build-native.mjs):
 * SO_PEERCRED, prctl(PR_SET_DUMPABLE) and locked, never-dumped memory. Loaded on demand; when
 * it is missing the agent refuses to start and `nativeUnavailableReason()` says why, while every
 * other command keeps working.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export interface AgentNative {
  /** The credentials the kernel recorded for the other end of a connected Unix socket. */
  peerCredentials(fd: number): PeerCredentials;
  /** prctl(PR_SET_DUMPABLE, 0): no core dumps, no ptrace or /proc/<pid>/mem by other processes of the user. */
  setNonDumpable(): void;
  isDumpable(): boolean;
  /** An ArrayBuffer of `size` (1..65536) bytes in mlock'ed, MADV_DONTDUMP memory, zeroed when collected. */
  lockedBuffer(size: number): ArrayBuffer;
  /** explicit_bzero over the bytes of a buffer or view. */
  zero(buf: ArrayBufferView | ArrayBuffer): void;
}

const ADDON = join('native', 'build', 'Release', 'keybridge_native.node');

/** The package root: the nearest directory above this module that holds native/ (src/agent/ in a checkout, dist/ or dist/chunks/ in the bundle). */
function addonPath(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, ADDON);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

let loaded: { native?: AgentNative; reason?: string } | undefined;

function load(): { native?: AgentNative; reason?: string } {
  if (loaded) return loaded;
  const path = addonPath();
  if (!path) {
    loaded = { reason: `the native addon (${ADDON}) is not built; build it with \`node scripts/build-native.mjs\` (needs a C compiler and the Node headers)` };
    return loaded;
  }
  try {
    loaded = { native: createRequire(import.meta.url)(path) as AgentNative };
  } catch (e) {
    loaded = { reason: `the native addon ${path} cannot be loaded (${(e as Error).message}); rebuild it with \`node scripts/build-native.mjs\`` };
  }
  return loaded;
}

/** Why the addon is unavailable, or undefined when it loads. */
export function nativeUnavailableReason(): string | undefined {
  return load().reason;
}

/** The addon; throws with the reason when it is unavailable. */
export function agentNative(): AgentNative {
  const l = load();
  if (!l.native) throw new Error(l.reason);
  return l.native;
}
