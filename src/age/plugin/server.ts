/**
 * The plugin side of the age plugin protocol (C2SP age-plugin.md): what an
 * `age-plugin-NAME --age-plugin=<state machine>` process runs. Plugins implement
 * `RecipientV1Handler` and/or `IdentityV1Handler`; this module owns the wire: phase 1 collection
 * (unknown commands and grease ignored), phase 2 replies, interactive commands, and the spec's
 * rules. If the client hangs up, the plugin ends promptly with a non-zero exit code.
 */
import type { Readable, Writable } from 'node:stream';
import { base64nopad } from '@scure/base';
import { encodeStanza, LineReader, ProtocolError, StanzaReader, type Stanza } from '../stanza.ts';
import { UiFailure, type PluginUi } from './ui.ts';

export type RecipientV1Error = { kind: 'recipient' | 'identity'; index: number; message: string } | { kind: 'internal'; message: string };
export type IdentityV1Error =
  | { kind: 'identity'; index: number; message: string }
  | { kind: 'stanza'; file: number; index: number; message: string }
  | { kind: 'internal'; message: string };

export interface RecipientV1Request {
  recipients: string[];
  identities: string[];
  fileKeys: Uint8Array[];
  /** Whether the client announced `extension-labels`. */
  labelsSupported: boolean;
  ui: PluginUi;
}

export interface RecipientV1Handler {
  wrapFileKeys(req: RecipientV1Request): Promise<{ stanzas: Stanza[][]; labels?: string[]; errors?: RecipientV1Error[] }>;
}

export interface IdentityV1Request {
  identities: string[];
  /** files[i] = the stanzas of file i, in order (file indices the client skipped are empty). */
  files: Stanza[][];
  ui: PluginUi;
}

export interface IdentityV1Handler {
  /**
   * Unwraps what it can. `send` lets the handler report file keys and errors as they happen (so
   * a long batch shows progress); anything returned is sent afterwards. At most one file key per
   * file is sent; extra ones are dropped.
   */
  unwrapFileKeys(
    req: IdentityV1Request,
    send: { fileKey(file: number, key: Uint8Array): Promise<void>; error(e: IdentityV1Error): Promise<void> },
  ): Promise<void>;
}

export interface PluginOptions {
  name: string;
  stateMachine: string;
  stdin: Readable | AsyncIterable<Uint8Array>;
  stdout: Writable;
  stderr: Writable;
  recipient?: RecipientV1Handler;
  identity?: IdentityV1Handler;
}

export const EXIT_UNKNOWN_STATE_MACHINE = 4;

class ClientGone extends Error {
  constructor() {
    super('the age client closed the connection');
    this.name = 'ClientGone';
  }
}

/** The connection to the client: write stanzas, read replies. */
class Channel {
  readonly reader: StanzaReader;
  private markPhase1Done!: () => void;
  /** Resolves when phase 1 (client → plugin) is complete. */
  readonly phase1Done = new Promise<void>((r) => (this.markPhase1Done = r));
  endPhase1(): void {
    this.markPhase1Done();
  }
  constructor(
    stdin: AsyncIterable<Uint8Array>,
    private readonly stdout: Writable,
  ) {
    this.reader = new StanzaReader(new LineReader(stdin));
  }

  send(type: string, args: string[], body: Uint8Array = new Uint8Array(0)): Promise<void> {
    const text = encodeStanza({ type, args, body });
    return new Promise((resolve, reject) => {
      if (this.stdout.destroyed || (this.stdout as { writableEnded?: boolean }).writableEnded) return reject(new ClientGone());
      this.stdout.write(text, (err) => (err ? reject(new ClientGone()) : resolve()));
    });
  }

  async read(): Promise<Stanza> {
    const s = await this.reader.next();
    if (!s) throw new ClientGone();
    return s;
  }

  /** Sends a phase-2 command and returns the client's reply (ok / fail / unsupported). */
  async request(type: string, args: string[], body?: Uint8Array): Promise<Stanza> {
    await this.send(type, args, body);
    const reply = await this.read();
    if (reply.type !== 'ok' && reply.type !== 'fail' && reply.type !== 'unsupported') {
      throw new ProtocolError(`unexpected reply "${reply.type}" from the age client`);
    }
    return reply;
  }
}

const te = new TextEncoder();
const td = new TextDecoder('utf-8', { fatal: true });

function channelUi(ch: Channel): PluginUi {
  return {
    async message(text) {
      await ch.request('msg', [], te.encode(text));
    },
    async confirm(message, yes, no) {
      const args = [base64nopad.encode(te.encode(yes))];
      if (no !== undefined) args.push(base64nopad.encode(te.encode(no)));
      const r = await ch.request('confirm', args, te.encode(message));
      if (r.type === 'unsupported') return 'unsupported';
      if (r.type === 'fail') throw new UiFailure('FAIL', 'the age client could not ask for confirmation');
      if (r.args[0] === 'yes') return true;
      if (r.args[0] === 'no') return false;
      throw new ProtocolError('confirm reply must be "ok yes" or "ok no"');
    },
    async requestPublic(prompt) {
      const r = await ch.request('request-public', [], te.encode(prompt));
      if (r.type !== 'ok') throw new UiFailure(r.type === 'fail' ? 'FAIL' : 'UNSUPPORTED', 'the age client could not read a value');
      return utf8(r.body, 'value');
    },
    async requestSecret(prompt) {
      const r = await ch.request('request-secret', [], te.encode(prompt));
      if (r.type !== 'ok') throw new UiFailure(r.type === 'fail' ? 'FAIL' : 'UNSUPPORTED', 'the age client could not read a secret');
      return utf8(r.body, 'secret');
    },
  };
}

/** The reply to a request, which must be UTF-8 (the value itself is never quoted: it may be a secret). */
function utf8(body: Uint8Array, what: 'value' | 'secret'): string {
  try {
    return td.decode(body);
  } catch {
    throw new ProtocolError(`the age client sent a ${what} that is not valid UTF-8`);
  }
}

/**
 * Most files one identity-v1 session may name: far more than any client batches, small enough
 * that the per-file bookkeeping of a hostile index cannot exhaust memory.
 */
export const MAX_FILES = 10_000;

/** Most recipients, identities, file keys or stanzas one session may send (each). */
export const MAX_ENTRIES = 100_000;

function bounded<T>(list: T[], what: string): T[] {
  if (list.length >= MAX_ENTRIES) throw new ProtocolError(`more than ${MAX_ENTRIES} ${what}`);
  return list;
}

function parseIndex(s: string | undefined): number {
  if (s === undefined || !/^(0|[1-9]\d{0,8})$/.test(s)) throw new ProtocolError(`invalid file index ${JSON.stringify(s?.slice(0, 20))}`);
  const n = Number(s);
  if (n >= MAX_FILES) throw new ProtocolError(`file index ${n} out of range (at most ${MAX_FILES - 1})`);
  return n;
}

async function recipientV1(ch: Channel, handler: RecipientV1Handler): Promise<void> {
  const req = { recipients: [] as string[], identities: [] as string[], fileKeys: [] as Uint8Array[], labelsSupported: false };
  for (;;) {
    const s = await ch.read();
    if (s.type === 'done') break;
    if (s.type === 'add-recipient') {
      if (s.args.length !== 1) throw new ProtocolError('add-recipient takes one argument');
      bounded(req.recipients, 'recipients').push(s.args[0]!);
    } else if (s.type === 'add-identity') {
      if (s.args.length !== 1) throw new ProtocolError('add-identity takes one argument');
      bounded(req.identities, 'identities').push(s.args[0]!);
    } else if (s.type === 'wrap-file-key') {
      if (s.body.length !== 16) throw new ProtocolError('wrap-file-key needs a 16-byte file key');
      bounded(req.fileKeys, 'file keys').push(s.body);
    } else if (s.type === 'extension-labels') {
      req.labelsSupported = true;
    }
    // anything else (grease, future commands) is ignored in this uni-directional phase
  }
  ch.endPhase1();
  const result = await handler.wrapFileKeys({ ...req, ui: channelUi(ch) });
  if (result.errors?.length) {
    for (const e of result.errors) {
      await ch.request('error', e.kind === 'internal' ? ['internal'] : [e.kind, String(e.index)], te.encode(e.message));
    }
  } else {
    if (result.labels && req.labelsSupported) {
      const labels = [...new Set(result.labels)];
      const r = await ch.request('labels', labels);
      if (r.type === 'fail') throw new ProtocolError('the age client rejected the labels');
    }
    for (const [file, stanzas] of result.stanzas.entries()) {
      for (const st of stanzas) await ch.request('recipient-stanza', [String(file), st.type, ...st.args], st.body);
    }
  }
  await ch.send('done', []);
}

async function identityV1(ch: Channel, handler: IdentityV1Handler): Promise<void> {
  const identities: string[] = [];
  const files: Stanza[][] = [];
  let lastFile = 0;
  let stanzas = 0;
  for (;;) {
    const s = await ch.read();
    if (s.type === 'done') break;
    if (s.type === 'add-identity') {
      if (s.args.length !== 1) throw new ProtocolError('add-identity takes one argument');
      bounded(identities, 'identities').push(s.args[0]!);
    } else if (s.type === 'recipient-stanza') {
      if (++stanzas > MAX_ENTRIES) throw new ProtocolError(`more than ${MAX_ENTRIES} stanzas`);
      if (s.args.length < 2) throw new ProtocolError('recipient-stanza needs a file index and a stanza type');
      const file = parseIndex(s.args[0]);
      if (file < lastFile) throw new ProtocolError('recipient-stanza file indices must not decrease');
      lastFile = file;
      while (files.length <= file) files.push([]);
      files[file]!.push({ type: s.args[1]!, args: s.args.slice(2), body: s.body });
    }
  }
  ch.endPhase1();
  const sent = new Set<number>();
  await handler.unwrapFileKeys(
    { identities, files, ui: channelUi(ch) },
    {
      async fileKey(file, key) {
        if (sent.has(file)) return;
        sent.add(file);
        await ch.request('file-key', [String(file)], key);
      },
      async error(e) {
        const args = e.kind === 'internal' ? ['internal'] : e.kind === 'identity' ? ['identity', String(e.index)] : ['stanza', String(e.file), String(e.index)];
        await ch.request('error', args, te.encode(e.message));
      },
    },
  );
  await ch.send('done', []);
}

/** Runs one state machine to completion; returns the process exit code. */
export async function runPlugin(opts: PluginOptions): Promise<number> {
  const fail = (msg: string) => opts.stderr.write(`age-plugin-${opts.name}: ${msg}\n`);
  if (opts.stateMachine !== 'recipient-v1' && opts.stateMachine !== 'identity-v1') {
    fail(`unknown state machine "${opts.stateMachine}" (this plugin speaks recipient-v1 and identity-v1)`);
    return EXIT_UNKNOWN_STATE_MACHINE;
  }
  const handler = opts.stateMachine === 'recipient-v1' ? opts.recipient : opts.identity;
  if (!handler) {
    fail(`this plugin does not support ${opts.stateMachine}`);
    return EXIT_UNKNOWN_STATE_MACHINE;
  }
  const ch = new Channel(opts.stdin as AsyncIterable<Uint8Array>, opts.stdout);
  try {
    const machine = opts.stateMachine === 'recipient-v1' ? recipientV1(ch, handler as RecipientV1Handler) : identityV1(ch, handler as IdentityV1Handler);
    // After phase 1 the client only speaks when asked; input ending means it has gone away, and
    // a plugin must not keep working (or waiting for a touch) for nobody.
    let finished = false;
    const hangup = ch.phase1Done.then(() => ch.reader.lines.whenEnded()).then(() => {
      if (!finished) throw new ClientGone();
    });
    hangup.catch(() => undefined);
    await Promise.race([machine.finally(() => (finished = true)), hangup.then(() => machine)]);
    return 0;
  } catch (e) {
    if (e instanceof ClientGone) {
      fail('the age client closed the connection');
      return 1;
    }
    if (e instanceof ProtocolError) {
      fail(`protocol error: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
