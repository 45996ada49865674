/**
 * The agent's native addon (native/agent.c, built at install by scripts/build-native.mjs):
 * SO_PEERCRED, prctl(PR_SET_DUMPABLE) and locked, never-dumped memory. Loaded on demand; when
 * it is missing the agent refuses to start and `nativeUnavailableReason()` says why, while every
 * other command keeps working.
 */
import { loadAddon } from '../nativeAddon.ts';

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

let loaded: { native?: AgentNative; reason?: string } | undefined;

function load(): { native?: AgentNative; reason?: string } {
  if (loaded) return loaded;
  const { addon, reason } = loadAddon<AgentNative>('keybridge_native');
  loaded = addon ? { native: addon } : { reason };
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
