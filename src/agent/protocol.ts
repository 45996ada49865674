/**
 * The agent's socket protocol, version 1. Every message is a frame: a 4-byte big-endian length
 * (at most MAX_FRAME) and that many bytes of UTF-8 JSON, an object with `v` (the protocol
 * version) and `t` (its type). The client speaks first with `hello`; the agent answers `hello`
 * or, for a version it does not speak, `error` code VERSION, and closes.
 *
 * Secrets never cross in clear: `hello` carries ephemeral X25519 keys, and a PIN the plugin
 * relays (`ui-reply` of a request-secret) and each file key the agent returns travel sealed
 * (see channel.ts). Everything else — prompts, status, errors — holds no secret material.
 *
 *   client → agent: hello, status, lock, stop, unwrap, ui-reply
 *   agent → client: hello, status, ok, ui, wait (a heartbeat while an operation runs), result, error
 */
import { base64 } from '@scure/base';

export const PROTOCOL_VERSION = 1;
/** Largest frame either side accepts (an unwrap request with many files stays far below). */
export const MAX_FRAME = 1024 * 1024;
export const MAX_IDENTITIES = 64;
export const MAX_FILES = 1024;
export const MAX_STANZAS_PER_FILE = 256;
export const MAX_ARGS = 16;
export const MAX_ARG = 1024;
export const MAX_BODY = 4096;
export const MAX_TEXT = 4096;

export class AgentProtocolError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'AgentProtocolError';
    this.code = code;
  }
}

/** An identity as the plugin decoded it (index among the client's identities, plugin name, Bech32 payload in base64). */
export interface WireIdentity {
  index: number;
  plugin: string;
  data: string;
}

export interface WireStanza {
  type: string;
  args: string[];
  /** base64 */
  body: string;
}

export type UiOp = 'message' | 'confirm' | 'requestPublic' | 'requestSecret';

export interface DeviceStatus {
  id: string;
  since: number;
  lastUsed: number;
  expiresAt: number;
  secrets: number;
  readers: string[];
}

export interface AgentStatus {
  pid: number;
  uid: number;
  version: string;
  socket: string;
  startedAt: number;
  idleTimeoutMs: number;
  maxLifetimeMs: number;
  families: string[];
  devices: DeviceStatus[];
  heldReaders: string[];
}

export type UnwrapErrorWire =
  | { kind: 'identity'; index: number; message: string }
  | { kind: 'stanza'; file: number; index: number; message: string }
  | { kind: 'internal'; message: string };

export type ClientMessage =
  | { v: number; t: 'hello'; pub: string }
  | { v: number; t: 'status' }
  | { v: number; t: 'lock' }
  | { v: number; t: 'stop' }
  | { v: number; t: 'unwrap'; family: string; identities: WireIdentity[]; files: WireStanza[][]; interactive: boolean; skipNotFound: boolean }
  | { v: number; t: 'ui-reply'; seq: number; ok: true; value?: string | boolean; sealed?: string }
  | { v: number; t: 'ui-reply'; seq: number; ok: false; code: 'FAIL' | 'UNSUPPORTED'; message: string };

export type AgentMessage =
  | { v: number; t: 'hello'; pub: string; pid: number; version: string }
  | { v: number; t: 'status'; status: AgentStatus }
  | { v: number; t: 'ok' }
  | { v: number; t: 'ui'; seq: number; op: UiOp; text: string; yes?: string; no?: string }
  | { v: number; t: 'wait' }
  | { v: number; t: 'result'; fileKeys: { file: number; sealed: string }[]; errors: UnwrapErrorWire[] }
  | { v: number; t: 'error'; code: string; message: string };

export function encodeFrame(msg: ClientMessage | AgentMessage): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(msg));
  if (json.length > MAX_FRAME) throw new AgentProtocolError('TOO_LARGE', `message of ${json.length} bytes exceeds the ${MAX_FRAME}-byte limit`);
  const frame = new Uint8Array(4 + json.length);
  new DataView(frame.buffer).setUint32(0, json.length);
  frame.set(json, 4);
  return frame;
}

/** Splits a byte stream into frames; a length over MAX_FRAME is an error, not an allocation. */
export class FrameReader {
  private chunks: Uint8Array[] = [];
  private size = 0;

  push(data: Uint8Array): unknown[] {
    this.chunks.push(data);
    this.size += data.length;
    const out: unknown[] = [];
    for (;;) {
      if (this.size < 4) return out;
      const head = this.peek(4);
      const len = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
      if (len > MAX_FRAME) throw new AgentProtocolError('TOO_LARGE', `frame of ${len} bytes exceeds the ${MAX_FRAME}-byte limit`);
      if (this.size < 4 + len) return out;
      const all = this.take(4 + len);
      const body = all.subarray(4);
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
      } catch {
        throw new AgentProtocolError('BAD_FRAME', 'a frame is not UTF-8 JSON');
      } finally {
        all.fill(0);
      }
      out.push(parsed);
    }
  }

  /** Zeroes what is buffered (it may hold part of a sealed value). */
  clear(): void {
    for (const c of this.chunks) c.fill(0);
    this.chunks = [];
    this.size = 0;
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const merged = this.take(this.size);
    this.chunks = [merged];
    this.size = merged.length;
    return merged.subarray(0, n);
  }

  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (k === c.length) {
        c.fill(0);
        this.chunks.shift();
      } else this.chunks[0] = c.subarray(k);
    }
    this.size -= n;
    return out;
  }
}

// ---- validation of what the other side sent (hostile input) ----

function fail(message: string): never {
  throw new AgentProtocolError('BAD_MESSAGE', message);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function str(x: unknown, what: string, max = MAX_TEXT): string {
  if (typeof x !== 'string' || x.length > max) fail(`${what}: expected a string of at most ${max} characters`);
  return x;
}

function int(x: unknown, what: string, max: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > max) fail(`${what}: expected an integer 0..${max}`);
  return x;
}

function arr(x: unknown, what: string, max: number): unknown[] {
  if (!Array.isArray(x) || x.length > max) fail(`${what}: expected a list of at most ${max} items`);
  return x;
}

function b64(x: unknown, what: string, max: number): string {
  const s = str(x, what, Math.ceil(max / 3) * 4 + 4);
  try {
    base64.decode(s);
  } catch {
    fail(`${what}: not base64`);
  }
  return s;
}

/** The common envelope: an object of our version with a known type. */
function envelope(x: unknown): { v: number; t: string; m: Record<string, unknown> } {
  if (!isObject(x)) fail('a message must be a JSON object');
  const v = x.v;
  if (v !== PROTOCOL_VERSION) throw new AgentProtocolError('VERSION', `protocol version ${typeof v === 'number' ? v : '?'} is not supported (this agent speaks ${PROTOCOL_VERSION})`);
  return { v, t: str(x.t, 'type', 32), m: x };
}

export function parseClientMessage(x: unknown): ClientMessage {
  const { v, t, m } = envelope(x);
  switch (t) {
    case 'hello':
      return { v, t, pub: b64(m.pub, 'pub', 32) };
    case 'status':
    case 'lock':
    case 'stop':
      return { v, t };
    case 'unwrap': {
      const identities = arr(m.identities, 'identities', MAX_IDENTITIES).map((x, i) => {
        if (!isObject(x)) fail(`identities[${i}]: expected an identity`);
        return { index: int(x.index, 'identity index', MAX_IDENTITIES * 16), plugin: str(x.plugin, 'identity plugin', 64), data: b64(x.data, 'identity data', 1024) };
      });
      const files = arr(m.files, 'files', MAX_FILES).map((f, i) =>
        arr(f, `files[${i}]`, MAX_STANZAS_PER_FILE).map((s, j) => {
          if (!isObject(s)) fail(`files[${i}][${j}]: expected a stanza`);
          return {
            type: str(s.type, 'stanza type', MAX_ARG),
            args: arr(s.args, 'stanza args', MAX_ARGS).map((a) => str(a, 'stanza arg', MAX_ARG)),
            body: b64(s.body, 'stanza body', MAX_BODY),
          };
        }),
      );
      return { v, t, family: str(m.family, 'family', 64), identities, files, interactive: m.interactive === true, skipNotFound: m.skipNotFound === true };
    }
    case 'ui-reply': {
      const seq = int(m.seq, 'seq', 2 ** 31);
      if (m.ok === true) {
        const out: ClientMessage = { v, t, seq, ok: true };
        if (typeof m.value === 'boolean') out.value = m.value;
        else if (m.value !== undefined) out.value = str(m.value, 'value');
        if (m.sealed !== undefined) out.sealed = b64(m.sealed, 'sealed', 1024);
        return out;
      }
      const code = m.code === 'UNSUPPORTED' ? 'UNSUPPORTED' : 'FAIL';
      return { v, t, seq, ok: false, code, message: str(m.message ?? '', 'message') };
    }
    default:
      fail(`unknown message type '${t.slice(0, 32)}'`);
  }
}

export function parseAgentMessage(x: unknown): AgentMessage {
  const { v, t, m } = envelope(x);
  switch (t) {
    case 'hello':
      return { v, t, pub: b64(m.pub, 'pub', 32), pid: int(m.pid, 'pid', 2 ** 31), version: str(m.version, 'version', 64) };
    case 'status':
      if (!isObject(m.status)) fail('status: expected an object');
      return { v, t, status: m.status as unknown as AgentStatus };
    case 'ok':
    case 'wait':
      return { v, t };
    case 'ui': {
      const op = str(m.op, 'op', 16);
      if (!['message', 'confirm', 'requestPublic', 'requestSecret'].includes(op)) fail(`unknown ui op '${op}'`);
      const out: AgentMessage = { v, t, seq: int(m.seq, 'seq', 2 ** 31), op: op as UiOp, text: str(m.text, 'text') };
      if (m.yes !== undefined) out.yes = str(m.yes, 'yes');
      if (m.no !== undefined) out.no = str(m.no, 'no');
      return out;
    }
    case 'result':
      return {
        v,
        t,
        fileKeys: arr(m.fileKeys, 'fileKeys', MAX_FILES).map((k) => {
          if (!isObject(k)) fail('fileKeys: expected objects');
          return { file: int(k.file, 'file', MAX_FILES), sealed: b64(k.sealed, 'sealed', 1024) };
        }),
        errors: arr(m.errors, 'errors', MAX_FILES * 4).map((e) => {
          if (!isObject(e)) fail('errors: expected objects');
          const message = str(e.message, 'message');
          if (e.kind === 'identity') return { kind: 'identity', index: int(e.index, 'index', MAX_IDENTITIES * 16), message };
          if (e.kind === 'stanza') return { kind: 'stanza', file: int(e.file, 'file', MAX_FILES), index: int(e.index, 'index', MAX_STANZAS_PER_FILE), message };
          return { kind: 'internal', message };
        }),
      };
    case 'error':
      return { v, t, code: str(m.code, 'code', 64), message: str(m.message, 'message') };
    default:
      fail(`unknown message type '${t.slice(0, 32)}'`);
  }
}
