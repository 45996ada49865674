/**
 * The client side of the age plugin protocol (what `age` does): find `age-plugin-NAME` on PATH
 * (never in the working directory), run recipient-v1 or identity-v1, answer the plugin's
 * interactive commands through a `ClientUi`, send grease like Go age 1.3, enforce the client-side
 * rules, and kill the plugin on timeout or error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import { base64nopad } from '@scure/base';
import { encodeStanza, LineReader, StanzaReader, type Stanza } from '../stanza.ts';

export class PluginError extends Error {
  readonly code: 'NOT_FOUND' | 'INVALID_NAME' | 'DIED' | 'TIMEOUT' | 'PROTOCOL' | 'PLUGIN_ERROR';
  readonly errors: { kind: string; index?: number; file?: number; message: string }[];
  constructor(code: PluginError['code'], message: string, errors: PluginError['errors'] = []) {
    super(message);
    this.name = 'PluginError';
    this.code = code;
    this.errors = errors;
  }
}

/** How the client asks its user on behalf of a plugin. */
export interface ClientUi {
  message(plugin: string, text: string): Promise<void>;
  /** Resolves true/false; rejects when nobody can answer (the plugin gets `fail`). */
  confirm(plugin: string, text: string, yes: string, no?: string): Promise<boolean>;
  /** Resolves the value; rejects when nobody can answer. */
  requestValue(plugin: string, prompt: string, secret: boolean): Promise<string>;
}

/** A UI for programs without a user: messages go to `log`, questions fail cleanly. */
export function nonInteractiveUi(log: (line: string) => void = (l) => process.stderr.write(l + '\n')): ClientUi {
  return {
    async message(plugin, text) {
      log(`age-plugin-${plugin}: ${text}`);
    },
    async confirm() {
      throw new Error('no terminal to ask on');
    },
    async requestValue() {
      throw new Error('no terminal to ask on');
    },
  };
}

/** A UI on the terminal (/dev/tty): secrets without echo. Without a terminal, questions fail cleanly. */
export async function terminalUi(): Promise<ClientUi> {
  const { openTerminal } = await import('../../term/prompt.ts');
  const openPrompter = () => {
    const t = openTerminal();
    if (!t) throw new Error('no terminal to ask on');
    return t;
  };
  return {
    async message(plugin, text) {
      process.stderr.write(`age-plugin-${plugin}: ${text}\n`);
    },
    async confirm(plugin, text, yes, no) {
      const p = openPrompter();
      try {
        const q = no === undefined ? `${text} (press enter for "${yes}")` : `${text} ([1] ${yes}, [2] ${no})`;
        for (;;) {
          const a = (await p.line(`age-plugin-${plugin}: ${q}`)).trim();
          if (no === undefined || a === '1') return true;
          if (a === '2') return false;
        }
      } finally {
        p.close();
      }
    },
    async requestValue(plugin, prompt, secret) {
      const p = openPrompter();
      try {
        return secret ? await p.secret(`age-plugin-${plugin}: ${prompt}`) : await p.line(`age-plugin-${plugin}: ${prompt}`);
      } finally {
        p.close();
      }
    },
  };
}

const NAME = /^[A-Za-z0-9+\-._]+$/;

/** The plugin binary on PATH (absolute PATH entries only). */
export function findPlugin(name: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!NAME.test(name)) throw new PluginError('INVALID_NAME', `invalid plugin name ${JSON.stringify(name)}`);
  for (const dir of (env.PATH ?? '').split(':')) {
    if (!dir || !isAbsolute(dir)) continue;
    const p = join(dir, `age-plugin-${name}`);
    try {
      if (!statSync(p).isFile()) continue;
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  throw new PluginError('NOT_FOUND', `age-plugin-${name} was not found on PATH; install the "${name}" plugin`);
}

/** The plugin name of a recipient (`age1NAME1…`) or identity (`AGE-PLUGIN-NAME-1…`) string. */
export function pluginNameOf(s: string): string {
  const lower = s.toLowerCase();
  const sep = lower.lastIndexOf('1');
  if (lower.startsWith('age-plugin-') && sep > 11 && lower[sep - 1] === '-') return lower.slice(11, sep - 1);
  if (lower.startsWith('age1') && sep > 4) return lower.slice(4, sep);
  throw new PluginError('INVALID_NAME', 'not a plugin recipient or identity');
}

export interface ClientOptions {
  env?: NodeJS.ProcessEnv;
  /** Kill the plugin if the whole exchange takes longer (default 10 minutes: prompts may wait for a person). */
  timeoutMs?: number;
  /** Send grease stanzas like Go age 1.3 (default true). */
  grease?: boolean;
}

function greaseStanza(): string {
  const args = Array.from({ length: randomInt(3) }, () => String(randomInt(1000)));
  const body = randomInt(2) ? randomBytes(randomInt(100)) : new Uint8Array(0);
  return encodeStanza({ type: `grease-${randomBytes(2).toString('hex')}`, args, body });
}

class Connection {
  readonly child: ChildProcess;
  readonly reader: StanzaReader;
  private stderr = '';
  private readonly timer: NodeJS.Timeout;
  private timedOut = false;
  private readonly timeout: Promise<never>;

  constructor(
    readonly name: string,
    stateMachine: string,
    opts: ClientOptions,
  ) {
    const bin = findPlugin(name, opts.env);
    this.child = spawn(bin, [`--age-plugin=${stateMachine}`], { cwd: tmpdir(), env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin!.on('error', () => undefined);
    this.child.stderr!.on('data', (d) => (this.stderr = (this.stderr + d).slice(-4000)));
    this.reader = new StanzaReader(new LineReader(this.child.stdout!));
    let onTimeout!: (e: Error) => void;
    this.timeout = new Promise<never>((_, reject) => (onTimeout = reject));
    this.timeout.catch(() => undefined);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.child.kill('SIGKILL');
      onTimeout(new PluginError('TIMEOUT', `age-plugin-${this.name} timed out`));
    }, opts.timeoutMs ?? 600_000);
  }

  send(s: Stanza): void {
    this.child.stdin!.write(encodeStanza(s));
  }
  raw(text: string): void {
    this.child.stdin!.write(text);
  }

  async next(): Promise<Stanza> {
    let s: Stanza | null;
    try {
      s = await Promise.race([this.reader.next(), this.timeout]);
    } catch (e) {
      if (e instanceof PluginError) throw e;
      throw new PluginError('PROTOCOL', `age-plugin-${this.name}: ${(e as Error).message}`);
    }
    if (!s) {
      // Let the plugin's last words on stderr arrive before quoting them.
      if (this.child.exitCode === null && this.child.signalCode === null) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, 500);
          this.child.once('close', () => (clearTimeout(t), r()));
        });
      }
      if (this.timedOut) throw new PluginError('TIMEOUT', `age-plugin-${this.name} timed out`);
      const tail = this.stderr.trim().split('\n').slice(-1)[0];
      throw new PluginError('DIED', `age-plugin-${this.name} unexpectedly died${tail ? `: ${tail}` : ''}`);
    }
    return s;
  }

  close(): void {
    clearTimeout(this.timer);
    this.child.stdin!.end();
    if (this.child.exitCode === null) this.child.kill('SIGINT');
  }

  /** Answers an interactive command; returns false if `s` is not one. */
  async interactive(s: Stanza, ui: ClientUi): Promise<boolean> {
    const text = () => new TextDecoder().decode(s.body);
    const ok = (body?: Uint8Array, args: string[] = []) => this.send({ type: 'ok', args, body: body ?? new Uint8Array(0) });
    const fail = () => this.send({ type: 'fail', args: [], body: new Uint8Array(0) });
    switch (s.type) {
      case 'msg':
        await ui.message(this.name, text()).then(() => ok(), fail);
        return true;
      case 'confirm': {
        if (s.args.length < 1 || s.args.length > 2) throw new PluginError('PROTOCOL', 'confirm needs one or two arguments');
        const dec = (a: string) => new TextDecoder().decode(base64nopad.decode(a));
        try {
          const yes = await ui.confirm(this.name, text(), dec(s.args[0]!), s.args[1] === undefined ? undefined : dec(s.args[1]));
          ok(undefined, [yes ? 'yes' : 'no']);
        } catch {
          fail();
        }
        return true;
      }
      case 'request-public':
      case 'request-secret':
        try {
          ok(new TextEncoder().encode(await ui.requestValue(this.name, text(), s.type === 'request-secret')));
        } catch {
          fail();
        }
        return true;
      default:
        return false;
    }
  }
}

function unsupported(c: Connection): void {
  c.send({ type: 'unsupported', args: [], body: new Uint8Array(0) });
}

function parseIndex(s: string | undefined, max: number): number {
  if (s === undefined || !/^(0|[1-9]\d*)$/.test(s) || Number(s) >= max) throw new PluginError('PROTOCOL', `invalid index ${JSON.stringify(s)}`);
  return Number(s);
}

export async function runRecipientV1(
  name: string,
  req: { recipients: string[]; identities: string[]; fileKeys: Uint8Array[] },
  ui: ClientUi,
  opts: ClientOptions = {},
): Promise<{ stanzas: Stanza[][]; labels: string[] }> {
  const c = new Connection(name, 'recipient-v1', opts);
  const grease = opts.grease ?? true;
  try {
    for (const r of req.recipients) c.send({ type: 'add-recipient', args: [r], body: new Uint8Array(0) });
    for (const i of req.identities) c.send({ type: 'add-identity', args: [i], body: new Uint8Array(0) });
    if (grease && randomInt(3) > 0) c.raw(greaseStanza());
    for (const k of req.fileKeys) c.send({ type: 'wrap-file-key', args: [], body: k });
    c.send({ type: 'extension-labels', args: [], body: new Uint8Array(0) });
    c.send({ type: 'done', args: [], body: new Uint8Array(0) });
    const stanzas: Stanza[][] = req.fileKeys.map(() => []);
    const errors: PluginError['errors'] = [];
    let labels: string[] | undefined;
    for (;;) {
      const s = await c.next();
      if (s.type === 'done') break;
      if (await c.interactive(s, ui)) continue;
      if (s.type === 'recipient-stanza') {
        if (s.args.length < 2) throw new PluginError('PROTOCOL', 'recipient-stanza needs a file index and a type');
        const f = parseIndex(s.args[0], req.fileKeys.length);
        stanzas[f]!.push({ type: s.args[1]!, args: s.args.slice(2), body: s.body });
        c.send({ type: 'ok', args: [], body: new Uint8Array(0) });
      } else if (s.type === 'labels') {
        if (labels) throw new PluginError('PROTOCOL', 'labels sent twice');
        if (new Set(s.args).size !== s.args.length) throw new PluginError('PROTOCOL', 'duplicate labels');
        labels = s.args;
        c.send({ type: 'ok', args: [], body: new Uint8Array(0) });
      } else if (s.type === 'error') {
        const message = new TextDecoder().decode(s.body);
        errors.push({ kind: s.args[0] ?? 'internal', ...(s.args[1] !== undefined ? { index: Number(s.args[1]) } : {}), message });
        c.send({ type: 'ok', args: [], body: new Uint8Array(0) });
      } else {
        unsupported(c);
      }
    }
    if (errors.length) throw new PluginError('PLUGIN_ERROR', `age-plugin-${name}: ${errors.map((e) => e.message).join('; ')}`, errors);
    if (stanzas.some((f) => f.length === 0)) throw new PluginError('PROTOCOL', `age-plugin-${name} returned no stanza for a file key`);
    return { stanzas, labels: labels ?? [] };
  } finally {
    c.close();
  }
}

export async function runIdentityV1(
  name: string,
  req: { identities: string[]; files: Stanza[][] },
  ui: ClientUi,
  opts: ClientOptions = {},
): Promise<Array<Uint8Array | null>> {
  const c = new Connection(name, 'identity-v1', opts);
  const grease = opts.grease ?? true;
  try {
    for (const i of req.identities) c.send({ type: 'add-identity', args: [i], body: new Uint8Array(0) });
    if (grease && randomInt(3) > 0) c.raw(greaseStanza());
    req.files.forEach((file, f) => {
      for (const s of file) c.send({ type: 'recipient-stanza', args: [String(f), s.type, ...s.args], body: s.body });
    });
    c.send({ type: 'done', args: [], body: new Uint8Array(0) });
    const keys: Array<Uint8Array | null> = req.files.map(() => null);
    const errors: PluginError['errors'] = [];
    for (;;) {
      const s = await c.next();
      if (s.type === 'done') break;
      if (await c.interactive(s, ui)) continue;
      if (s.type === 'file-key') {
        const f = parseIndex(s.args[0], req.files.length);
        if (keys[f] || s.body.length !== 16) {
          c.send({ type: 'fail', args: [], body: new Uint8Array(0) });
          continue;
        }
        keys[f] = s.body;
        c.send({ type: 'ok', args: [], body: new Uint8Array(0) });
      } else if (s.type === 'error') {
        const message = new TextDecoder().decode(s.body);
        errors.push({ kind: s.args[0] ?? 'internal', ...(s.args[0] === 'stanza' ? { file: Number(s.args[1]), index: Number(s.args[2]) } : s.args[1] !== undefined ? { index: Number(s.args[1]) } : {}), message });
        c.send({ type: 'ok', args: [], body: new Uint8Array(0) });
      } else {
        unsupported(c);
      }
    }
    // Like rage: errors matter only for files that got no key.
    const fatal = errors.filter((e) => e.kind !== 'stanza' || keys[e.file!] === null);
    if (fatal.length && keys.every((k) => k === null)) throw new PluginError('PLUGIN_ERROR', `age-plugin-${name}: ${fatal.map((e) => e.message).join('; ')}`, fatal);
    return keys;
  } finally {
    c.close();
  }
}

