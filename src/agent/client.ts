/**
 * The client side of the agent socket, for the plugins and `keybridge agent status|lock|stop`.
 * Everything is bounded in time: connecting and the hello exchange must finish within
 * `connectTimeoutMs` (default 1000 ms), and during an operation the agent must be heard from
 * (a `wait` heartbeat at least) every `silenceTimeoutMs` (default 3000 ms) — time spent waiting
 * for the user on a relayed prompt does not count. A missing, dead, refusing or hung agent is an
 * `AgentUnavailable` error, so the caller falls back to doing the work itself.
 */
import { connect, type Socket } from 'node:net';
import { base64 } from '@scure/base';
import type { Stanza } from '../age/stanza.ts';
import type { Decoded } from '../age/plugin/v1.ts';
import type { PluginUi } from '../age/plugin/ui.ts';
import { UiFailure } from '../age/plugin/ui.ts';
import { Handshake, type SealedChannel } from './channel.ts';
import { untrustedSocketReason } from './paths.ts';
import { FramedStream, StreamTimeout } from './framed.ts';
import { parseAgentMessage, PROTOCOL_VERSION, type AgentMessage, type AgentStatus, type ClientMessage, type UnwrapErrorWire } from './protocol.ts';

export class AgentUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentUnavailable';
  }
}

export interface AgentClientOptions {
  socket: string;
  connectTimeoutMs?: number;
  silenceTimeoutMs?: number;
}

export interface UnwrapReply {
  fileKeys: Map<number, Uint8Array>;
  errors: UnwrapErrorWire[];
}

export class AgentConnection {
  private readonly stream: FramedStream<AgentMessage>;
  private gone: Error | undefined;
  private channel!: SealedChannel;
  agentPid = 0;
  agentVersion = '';

  private constructor(
    private readonly s: Socket,
    private readonly opts: Required<AgentClientOptions>,
  ) {
    this.stream = new FramedStream(s, parseAgentMessage);
    s.on('error', (e) => {
      this.gone ??= new AgentUnavailable(`agent connection: ${e.message}`, { cause: e });
    });
  }

  static async open(options: AgentClientOptions): Promise<AgentConnection> {
    const opts = { connectTimeoutMs: 1000, silenceTimeoutMs: 3000, ...options };
    const untrusted = untrustedSocketReason(opts.socket);
    if (untrusted) throw new AgentUnavailable(untrusted);
    const s = await new Promise<Socket>((resolve, reject) => {
      const sock = connect(opts.socket);
      const t = setTimeout(() => {
        sock.destroy();
        reject(new AgentUnavailable(`the agent did not accept a connection within ${opts.connectTimeoutMs} ms`));
      }, opts.connectTimeoutMs);
      sock.once('connect', () => {
        clearTimeout(t);
        resolve(sock);
      });
      sock.once('error', (e) => {
        clearTimeout(t);
        reject(new AgentUnavailable(`cannot reach the agent at ${opts.socket}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { cause: e }));
      });
    });
    const c = new AgentConnection(s, opts);
    try {
      const hs = new Handshake();
      c.send({ v: PROTOCOL_VERSION, t: 'hello', pub: hs.publicKey });
      const hello = await c.next(opts.connectTimeoutMs);
      if (hello.t === 'error') throw new AgentUnavailable(`the agent refused: ${hello.message}`);
      if (hello.t !== 'hello') throw new AgentUnavailable(`the agent answered ${hello.t} to hello`);
      c.channel = hs.finish(hello.pub, 'client');
      c.agentPid = hello.pid;
      c.agentVersion = hello.version;
      return c;
    } catch (e) {
      c.close();
      throw e instanceof AgentUnavailable ? e : new AgentUnavailable((e as Error).message, { cause: e });
    }
  }

  private send(m: ClientMessage): void {
    if (this.gone) throw this.gone;
    this.stream.send(m);
  }

  /** The next message, within `timeoutMs`; anything else (closed, unreadable, silent) makes the agent unavailable. */
  private async next(timeoutMs = this.opts.silenceTimeoutMs): Promise<AgentMessage> {
    let m: AgentMessage | null;
    try {
      m = await this.stream.next(timeoutMs);
    } catch (e) {
      this.gone ??=
        e instanceof StreamTimeout
          ? new AgentUnavailable(`the agent did not answer within ${timeoutMs} ms`)
          : new AgentUnavailable(`the agent sent something unreadable: ${(e as Error).message}`, { cause: e });
      this.s.destroy();
      throw this.gone;
    }
    if (m === null) throw (this.gone ??= new AgentUnavailable('the agent closed the connection'));
    return m;
  }

  private async simple(t: 'lock' | 'stop'): Promise<void> {
    this.send({ v: PROTOCOL_VERSION, t });
    const r = await this.next();
    if (r.t === 'error') throw new AgentUnavailable(`the agent refused: ${r.message}`);
  }

  async status(): Promise<AgentStatus> {
    this.send({ v: PROTOCOL_VERSION, t: 'status' });
    const r = await this.next();
    if (r.t !== 'status') throw new AgentUnavailable(`the agent answered ${r.t} to status`);
    return r.status;
  }

  lock(): Promise<void> {
    return this.simple('lock');
  }

  stop(): Promise<void> {
    return this.simple('stop');
  }

  /**
   * Runs an unwrap in the agent; the agent's prompts go to `ui`. Throws AgentUnavailable when the
   * agent fails, dies or goes silent (the caller then unwraps locally); a result with errors (a
   * wrong PIN, a declined prompt) is a result.
   */
  async unwrap(req: { family: string; identities: Decoded[]; files: Stanza[][]; interactive: boolean; skipNotFound: boolean }, ui: PluginUi): Promise<UnwrapReply> {
    this.send({
      v: PROTOCOL_VERSION,
      t: 'unwrap',
      family: req.family,
      identities: req.identities.map((d) => ({ index: d.index, plugin: d.plugin, data: base64.encode(d.data) })),
      files: req.files.map((f) => f.map((s) => ({ type: s.type, args: s.args, body: base64.encode(s.body) }))),
      interactive: req.interactive,
      skipNotFound: req.skipNotFound,
    });
    for (;;) {
      const m = await this.next();
      switch (m.t) {
        case 'wait':
          continue;
        case 'ui':
          await this.answer(m, ui);
          continue;
        case 'result': {
          const fileKeys = new Map<number, Uint8Array>();
          for (const k of m.fileKeys) fileKeys.set(k.file, this.channel.open(k.sealed));
          return { fileKeys, errors: m.errors };
        }
        case 'error':
          throw new AgentUnavailable(`the agent could not unwrap: ${m.message}`);
        default:
          throw new AgentUnavailable(`the agent sent ${m.t} during an unwrap`);
      }
    }
  }

  private async answer(m: Extract<AgentMessage, { t: 'ui' }>, ui: PluginUi): Promise<void> {
    const reply = (r: Omit<Extract<ClientMessage, { t: 'ui-reply'; ok: true }>, 'v' | 't' | 'seq' | 'ok'> | { ok: false; code: 'FAIL' | 'UNSUPPORTED'; message: string }) => {
      if ('ok' in r && r.ok === false) this.send({ v: PROTOCOL_VERSION, t: 'ui-reply', seq: m.seq, ok: false, code: r.code, message: r.message });
      else this.send({ v: PROTOCOL_VERSION, t: 'ui-reply', seq: m.seq, ok: true, ...(r as object) });
    };
    try {
      switch (m.op) {
        case 'message':
          await ui.message(m.text);
          reply({});
          return;
        case 'confirm': {
          const a = await ui.confirm(m.text, m.yes ?? 'yes', m.no);
          if (a === 'unsupported') reply({ ok: false, code: 'UNSUPPORTED', message: 'the client cannot ask' });
          else reply({ value: a });
          return;
        }
        case 'requestPublic':
          reply({ value: await ui.requestPublic(m.text) });
          return;
        case 'requestSecret': {
          const bytes = new TextEncoder().encode(await ui.requestSecret(m.text));
          const sealed = this.channel.seal(bytes);
          bytes.fill(0);
          reply({ sealed });
          return;
        }
      }
    } catch (e) {
      if (this.gone) throw this.gone;
      const code = e instanceof UiFailure ? e.code : 'FAIL';
      reply({ ok: false, code, message: e instanceof UiFailure ? e.message : 'the prompt failed' });
    }
  }

  close(): void {
    this.s.destroy();
    this.channel?.close();
  }
}

/** Opens a connection, runs `fn`, closes. */
export async function withAgent<T>(opts: AgentClientOptions, fn: (c: AgentConnection) => Promise<T>): Promise<T> {
  const c = await AgentConnection.open(opts);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}
