/**
 * The agent's server: a Unix socket that only this user (or root) may use — the peer's uid is
 * checked with SO_PEERCRED before a byte is read — serving status, lock, stop and unwrap
 * requests. An unwrap runs the family's token operation here, with the card connections held
 * (HeldReaders) and the per-device memory (DeviceCache); its prompts and messages are relayed to
 * the calling plugin (`ui` ↔ `ui-reply`), which shows them through its age client. While an
 * operation runs the agent sends `wait` every second, so a client can tell a busy agent from a
 * hung one. One operation at a time (cards do not interleave well).
 *
 * Logs name peers, request kinds, counts and reasons; never a PIN, key or file key.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Stanza } from '../age/stanza.ts';
import type { Decoded } from '../age/plugin/v1.ts';
import { UiFailure, type PluginUi } from '../age/plugin/ui.ts';
import type { CardReaders } from '../transport/readers.ts';
import { base64 } from '@scure/base';
import { Handshake, type SealedChannel } from './channel.ts';
import { DeviceCache, type CacheLimits, type ForgetReason } from './deviceCache.ts';
import { HeldReaders } from './heldReaders.ts';
import type { AgentNative } from './native.ts';
import { preparePrivateDir } from './paths.ts';
import { FramedStream } from './framed.ts';
import { AgentProtocolError, encodeFrame, parseClientMessage, PROTOCOL_VERSION, type AgentMessage, type AgentStatus, type ClientMessage, type UnwrapErrorWire } from './protocol.ts';

/** What a token family's operation gets inside the agent. */
export interface AgentContext {
  /** The calling plugin's age client, relayed. */
  ui: PluginUi;
  /** Whether the plugin's user could answer a question (it has a terminal). */
  interactive: boolean;
  /** The plugin's environment asked to skip absent devices without asking. */
  skipNotFound: boolean;
  /** The reader system, with connections held between requests. */
  readers: CardReaders;
  /** Per-device memory; `device(id)` marks a device as used by this request. */
  cache: DeviceCache;
  device(id: string): void;
  /** Fired when the plugin goes away during the operation (a pending touch is cancelled). */
  signal: AbortSignal;
  log(line: string): void;
}

export interface AgentFamily {
  /** The plugin name (`yubikey`), as the plugin sends it. */
  readonly name: string;
  unwrap(req: { identities: Decoded[]; files: Stanza[][] }, ctx: AgentContext): Promise<{ fileKeys: Map<number, Uint8Array>; errors: UnwrapErrorWire[] }>;
}

export interface AgentServerOptions {
  socket: string;
  limits: CacheLimits;
  families: readonly AgentFamily[];
  native: Pick<AgentNative, 'peerCredentials' | 'lockedBuffer' | 'zero'>;
  /** Opens the reader system at first need (PC/SC); kept for the agent's lifetime. */
  openReaders: () => Promise<CardReaders>;
  version: string;
  log: (line: string) => void;
  /** Called after a `stop` request was answered. */
  onStop?: () => void;
  now?: () => number;
  /** Heartbeat period while an operation runs. Default 1000 ms. */
  heartbeatMs?: number;
}

const MAX_CONNECTIONS = 32;
/** A connected client that sends nothing for this long (outside an operation) is dropped. */
const CLIENT_IDLE_MS = 60_000;

export interface AgentServer {
  readonly socket: string;
  readonly cache: DeviceCache;
  status(): AgentStatus;
  /** Forgets every device and releases the held cards with a reset. */
  lock(reason: ForgetReason): void;
  close(): Promise<void>;
}

class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.tail.then(fn);
    this.tail = r.then(
      () => undefined,
      () => undefined,
    );
    return r;
  }
}

function unlinkStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    /* absent */
  }
}

export async function startAgentServer(opts: AgentServerOptions): Promise<AgentServer> {
  const uid = process.getuid?.() ?? -1;
  const now = opts.now ?? Date.now;
  const startedAt = now();
  const cache = new DeviceCache(opts.limits, opts.native, now);
  const families = new Map(opts.families.map((f) => [f.name, f]));
  const mutex = new Mutex();
  const log = opts.log;

  const held = new HeldReaders(opts.openReaders, log);
  cache.onForget((device, reason) => {
    log(`forgot ${device.id} (${reason})`);
    for (const r of device.readers) {
      if (cache.devicesOn(r).length === 0) void held.release(r, true);
    }
  });
  held.onRemoved((reader) => {
    const ids = cache.devicesOn(reader);
    log(`card removed from ${reader}`);
    for (const id of ids) cache.forget(id, 'removed');
  });

  preparePrivateDir(opts.socket);
  unlinkStaleSocket(opts.socket);
  const connections = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: false }, (s) => onConnection(s));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The socket is created under umask 0177 semantics by chmod right after; the 0700 directory already keeps others out.
    server.listen(opts.socket, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(opts.socket, 0o600);
  server.on('error', (e) => log(`socket error: ${e.message}`));

  const status = (): AgentStatus => ({
    pid: process.pid,
    uid,
    version: opts.version,
    socket: opts.socket,
    startedAt,
    idleTimeoutMs: opts.limits.idleMs,
    maxLifetimeMs: opts.limits.maxLifetimeMs,
    families: [...families.keys()],
    devices: cache.status(),
    heldReaders: held.heldReaders(),
  });

  function onConnection(s: Socket): void {
    let peer: { pid: number; uid: number };
    try {
      const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
      if (typeof fd !== 'number' || fd < 0) throw new Error('no file descriptor');
      peer = opts.native.peerCredentials(fd);
    } catch (e) {
      log(`refused a connection: its credentials cannot be read (${(e as Error).message})`);
      s.destroy();
      return;
    }
    if (peer.uid !== uid && peer.uid !== 0) {
      log(`refused a connection from uid ${peer.uid} (pid ${peer.pid}): this agent serves uid ${uid} only`);
      // Say why and close our side; what the peer still sends is read and dropped unparsed (so
      // its writes do not fail before it has read the refusal), and it is cut off after 1 s.
      s.on('data', (d: Buffer) => d.fill(0));
      s.on('error', () => undefined);
      s.end(encodeFrame({ v: PROTOCOL_VERSION, t: 'error', code: 'EPERM', message: `refused: this agent serves uid ${uid} only` }));
      setTimeout(() => s.destroy(), 1000).unref();
      return;
    }
    if (connections.size >= MAX_CONNECTIONS) {
      s.end(encodeFrame({ v: PROTOCOL_VERSION, t: 'error', code: 'BUSY', message: 'too many connections' }));
      return;
    }
    connections.add(s);
    new Connection(s, peer).start();
  }

  class Connection {
    private readonly stream: FramedStream<ClientMessage>;
    private channel: SealedChannel | undefined;
    private closed = false;
    private idle: NodeJS.Timeout | undefined;
    private seq = 0;
    /** Aborted when the client goes away. */
    private readonly gone = new AbortController();

    constructor(
      private readonly s: Socket,
      private readonly peer: { pid: number; uid: number },
    ) {
      this.stream = new FramedStream(s, parseClientMessage);
    }

    start(): void {
      this.armIdle();
      this.s.on('close', () => this.onClose());
      this.s.on('error', () => undefined);
      void this.loop();
    }

    private armIdle(): void {
      if (this.idle) clearTimeout(this.idle);
      this.idle = setTimeout(() => this.s.destroy(), CLIENT_IDLE_MS);
      this.idle.unref();
    }

    private onClose(): void {
      this.closed = true;
      connections.delete(this.s);
      if (this.idle) clearTimeout(this.idle);
      this.channel?.close();
      this.gone.abort();
    }

    /** The next message from the client, or null when it is gone. */
    private next(): Promise<ClientMessage | null> {
      return this.stream.next();
    }

    private send(m: AgentMessage): void {
      if (!this.closed) this.stream.send(m);
    }

    private fail(e: unknown): void {
      const code = e instanceof AgentProtocolError ? e.code : 'INTERNAL';
      const message = e instanceof AgentProtocolError ? e.message : 'internal error';
      log(`connection from pid ${this.peer.pid}: ${code}: ${message}`);
      if (!this.closed) this.stream.end({ v: PROTOCOL_VERSION, t: 'error', code, message });
      this.closed = true;
    }

    private async loop(): Promise<void> {
      try {
        const hello = await this.next();
        if (!hello) return void this.s.destroy();
        if (hello.t !== 'hello') throw new AgentProtocolError('BAD_MESSAGE', 'the first message must be hello');
        const hs = new Handshake();
        this.channel = hs.finish(hello.pub, 'agent');
        this.send({ v: PROTOCOL_VERSION, t: 'hello', pub: hs.publicKey, pid: process.pid, version: opts.version });
        for (;;) {
          const m = await this.next();
          if (!m) return void this.s.destroy();
          this.armIdle();
          switch (m.t) {
            case 'status':
              this.send({ v: PROTOCOL_VERSION, t: 'status', status: status() });
              break;
            case 'lock':
              log(`lock requested by pid ${this.peer.pid}`);
              lock('lock');
              this.send({ v: PROTOCOL_VERSION, t: 'ok' });
              break;
            case 'stop':
              log(`stop requested by pid ${this.peer.pid}`);
              this.send({ v: PROTOCOL_VERSION, t: 'ok' });
              this.s.end();
              opts.onStop?.();
              return;
            case 'unwrap':
              // The user may take a while to answer a relayed prompt: no idle limit meanwhile.
              if (this.idle) clearTimeout(this.idle);
              await mutex.run(() => this.unwrap(m));
              this.armIdle();
              break;
            default:
              throw new AgentProtocolError('BAD_MESSAGE', `unexpected ${m.t}`);
          }
        }
      } catch (e) {
        this.fail(e);
      }
    }

    private ui(): PluginUi {
      const ask = async (op: 'message' | 'confirm' | 'requestPublic' | 'requestSecret', text: string, yes?: string, no?: string) => {
        const seq = ++this.seq;
        const m: AgentMessage = { v: PROTOCOL_VERSION, t: 'ui', seq, op, text };
        if (yes !== undefined) m.yes = yes;
        if (no !== undefined) m.no = no;
        this.send(m);
        const reply = await this.next();
        if (!reply) throw new UiFailure('FAIL', 'the plugin went away');
        if (reply.t !== 'ui-reply' || reply.seq !== seq) throw new AgentProtocolError('BAD_MESSAGE', `expected the reply to prompt ${seq}`);
        return reply;
      };
      return {
        message: async (text) => {
          const r = await ask('message', text);
          if (!r.ok) throw new UiFailure(r.code, r.message);
        },
        confirm: async (text, yes, no) => {
          const r = await ask('confirm', text, yes, no);
          if (!r.ok) {
            if (r.code === 'UNSUPPORTED') return 'unsupported';
            throw new UiFailure(r.code, r.message);
          }
          return r.value === true;
        },
        requestPublic: async (text) => {
          const r = await ask('requestPublic', text);
          if (!r.ok) throw new UiFailure(r.code, r.message);
          return typeof r.value === 'string' ? r.value : '';
        },
        requestSecret: async (text) => {
          const r = await ask('requestSecret', text);
          if (!r.ok) throw new UiFailure(r.code, r.message);
          if (!r.sealed) throw new AgentProtocolError('BAD_MESSAGE', 'a secret must be sealed');
          const bytes = this.channel!.open(r.sealed);
          try {
            return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
          } catch {
            throw new UiFailure('FAIL', 'the secret is not UTF-8');
          } finally {
            opts.native.zero(bytes);
          }
        },
      };
    }

    private async unwrap(m: Extract<ClientMessage, { t: 'unwrap' }>): Promise<void> {
      const family = families.get(m.family);
      if (!family) {
        this.send({ v: PROTOCOL_VERSION, t: 'error', code: 'NO_FAMILY', message: `this agent does not handle ${m.family.slice(0, 64)} tokens` });
        return;
      }
      const files: Stanza[][] = m.files.map((f) => f.map((s) => ({ type: s.type, args: s.args, body: base64.decode(s.body) })));
      const heartbeat = setInterval(() => this.send({ v: PROTOCOL_VERSION, t: 'wait' }), opts.heartbeatMs ?? 1000);
      const used = new Set<string>();
      const release = cache.hold();
      held.beginRequest();
      const t0 = now();
      try {
        const r = await family.unwrap(
          { identities: m.identities.map((d) => ({ index: d.index, plugin: d.plugin, data: base64.decode(d.data) })), files },
          {
            ui: this.ui(),
            interactive: m.interactive,
            skipNotFound: m.skipNotFound,
            readers: held.view(),
            cache,
            device: (id) => {
              used.add(id);
              cache.use(id);
            },
            signal: this.gone.signal,
            log,
          },
        );
        const fileKeys = [...r.fileKeys.entries()].map(([file, key]) => {
          const sealed = this.channel!.seal(key);
          opts.native.zero(key);
          return { file, sealed };
        });
        log(`unwrap ${family.name} for pid ${this.peer.pid}: ${files.length} file(s), ${fileKeys.length} file key(s), ${r.errors.length} error(s), ${now() - t0} ms`);
        this.send({ v: PROTOCOL_VERSION, t: 'result', fileKeys, errors: r.errors });
      } catch (e) {
        if (this.closed) log(`unwrap ${family.name}: the plugin (pid ${this.peer.pid}) went away`);
        else {
          log(`unwrap ${family.name} failed: ${e instanceof Error ? e.name : 'error'}`);
          this.send({ v: PROTOCOL_VERSION, t: 'error', code: 'UNWRAP_FAILED', message: 'the agent could not run the operation' });
        }
      } finally {
        clearInterval(heartbeat);
        settle(used);
        release();
      }
    }
  }

  /** After a request: devices it used live on the readers it touched; readers with no device are let go. */
  function settle(used: Set<string>): void {
    const touched = held.touchedReaders();
    for (const id of used) {
      if (!cache.has(id)) continue;
      for (const r of touched) cache.linkReader(id, r);
    }
    for (const r of touched) {
      const ids = cache.devicesOn(r);
      for (const id of ids) cache.use(id);
      if (ids.length === 0) void held.release(r, false);
    }
  }

  function lock(reason: ForgetReason): void {
    cache.forgetAll(reason);
    // Cards held without a remembered device are let go too, with a reset.
    void held.releaseAll(true);
  }

  return {
    socket: opts.socket,
    cache,
    status,
    lock,
    async close() {
      cache.close('stop');
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of connections) s.destroy();
      await closed;
      await held.close().catch(() => undefined);
      unlinkStaleSocket(opts.socket);
    },
  };
}
