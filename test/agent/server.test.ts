/**
 * The agent server and client over a real Unix socket, with a small in-process token family
 * standing in for a card (the PC/SC path is covered end to end in agent.e2e.test.ts): prompts
 * relayed both ways, secrets sealed on the wire, peers of another uid refused (nobody, via
 * setpriv), other protocol versions refused, dead and silent agents reported promptly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { AgentConnection, AgentUnavailable } from '../../src/agent/client.ts';
import { agentNative, nativeUnavailableReason } from '../../src/agent/native.ts';
import { encodeFrame, FrameReader } from '../../src/agent/protocol.ts';
import { startAgentServer, type AgentFamily, type AgentServer } from '../../src/agent/server.ts';
import type { PluginUi } from '../../src/age/plugin/ui.ts';
import { UiFailure } from '../../src/age/plugin/ui.ts';
import { run } from '../helpers/run.ts';

const reason = nativeUnavailableReason();
const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync('sh', ['-c', 'command -v setpriv']).status === 0;
const PIN = '471129';
const FILE_KEY = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc]);

/** A token that needs a PIN for each file unless the agent holds it; asks through ctx.ui like a family would. */
const family: AgentFamily & { prompts: number } = {
  name: 'test',
  prompts: 0,
  async unwrap(req, ctx) {
    const name = new TextDecoder().decode(req.identities[0]!.data);
    const id = `test:${name}`;
    ctx.device(id);
    let pin = ctx.cache.withSecret(id, 'pin', (b) => new TextDecoder().decode(b));
    if (!pin) {
      family.prompts++;
      pin = await ctx.ui.requestSecret('Enter PIN for the test token');
      if (pin !== PIN) return { fileKeys: new Map(), errors: [{ kind: 'identity', index: 0, message: 'Invalid PIN' }] };
      const bytes = new TextEncoder().encode(pin);
      ctx.cache.putSecret(id, 'pin', bytes);
      bytes.fill(0);
    }
    // A FIDO2 key's touch message is relayed without waiting for it (the key is already waiting).
    if (name === 'unawaited') void ctx.ui.message('Touch the test token').catch(() => undefined);
    else await ctx.ui.message('Touch the test token');
    if (name === 'slow') await new Promise((r) => setTimeout(r, 2500));
    return { fileKeys: new Map(req.files.map((_, i) => [i, FILE_KEY.slice()])), errors: [] };
  },
};

const ids = (name: string) => [{ index: 0, plugin: 'test', data: new TextEncoder().encode(name) }];

function recordingUi(pin = PIN): PluginUi & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    message: async (t) => void seen.push(`msg ${t}`),
    confirm: async (t) => (seen.push(`confirm ${t}`), true),
    requestPublic: async (t) => (seen.push(`public ${t}`), 'x'),
    requestSecret: async (t) => (seen.push(`secret ${t}`), pin),
  };
}

describe.skipIf(!!reason)(`agent server and client${reason ? ` [skipped: ${reason}]` : ''}`, () => {
  let dir: string;
  let sock: string;
  let server: AgentServer;
  const logs: string[] = [];
  const files = [[{ type: 'test', args: ['a'], body: new Uint8Array(32) }], [{ type: 'test', args: ['b'], body: new Uint8Array(32) }]];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kb-agent-'));
    sock = join(dir, 'agent', 'agent.sock');
    server = await startAgentServer({
      socket: sock,
      limits: { idleMs: 60_000, maxLifetimeMs: 600_000 },
      families: [family],
      native: agentNative(),
      openReaders: async () => {
        throw new Error('no cards in this test');
      },
      version: 'test',
      log: (l) => logs.push(l),
      heartbeatMs: 200,
    });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates its socket directory 0700 and the socket 0600', () => {
    expect(statSync(join(dir, 'agent')).mode & 0o777).toBe(0o700);
    expect(statSync(sock).mode & 0o777).toBe(0o600);
  });

  it('relays the PIN prompt once, then remembers; file keys come back; neither PIN nor file key crosses the socket in clear', async () => {
    // A recording proxy between client and agent sees every byte of both directions.
    const wire: Buffer[] = [];
    const proxyDir = mkdtempSync(join(tmpdir(), 'kb-proxy-'));
    chmodSync(proxyDir, 0o700);
    const proxySock = join(proxyDir, 'p.sock');
    const proxy: Server = createServer((down) => {
      const up = connect(sock);
      down.on('data', (d) => (wire.push(Buffer.from(d)), up.write(d)));
      up.on('data', (d) => (wire.push(Buffer.from(d)), down.write(d)));
      down.on('close', () => up.destroy());
      up.on('close', () => down.destroy());
    });
    await new Promise<void>((r) => proxy.listen(proxySock, r));
    try {
      const before = family.prompts;
      for (let i = 0; i < 3; i++) {
        const ui = recordingUi();
        const c = await AgentConnection.open({ socket: proxySock });
        const r = await c.unwrap({ family: 'test', identities: ids('tok1'), files, interactive: true, skipNotFound: false }, ui);
        c.close();
        expect(r.errors).toEqual([]);
        expect([...r.fileKeys.keys()]).toEqual([0, 1]);
        expect(r.fileKeys.get(1)).toEqual(FILE_KEY);
        expect(ui.seen).toEqual(i === 0 ? ['secret Enter PIN for the test token', 'msg Touch the test token'] : ['msg Touch the test token']);
      }
      expect(family.prompts).toBe(before + 1);
      const all = Buffer.concat(wire);
      expect(all.length).toBeGreaterThan(500);
      for (const needle of [Buffer.from(PIN), Buffer.from(PIN).toString('base64'), Buffer.from(FILE_KEY), Buffer.from(FILE_KEY).toString('base64'), Buffer.from(FILE_KEY).toString('hex')]) {
        expect(all.includes(needle)).toBe(false);
      }
      expect(logs.join('\n')).not.toContain(PIN);
    } finally {
      proxy.close();
      rmSync(proxyDir, { recursive: true, force: true });
    }
  });

  it('status lists the remembered device without secrets; lock forgets it and the next request asks again', async () => {
    const c = await AgentConnection.open({ socket: sock });
    const s = await c.status();
    expect(s).toMatchObject({ pid: process.pid, version: 'test', families: ['test'], socket: sock, idleTimeoutMs: 60_000, maxLifetimeMs: 600_000 });
    expect(s.devices).toMatchObject([{ id: 'test:tok1', secrets: 1 }]);
    expect(JSON.stringify(s)).not.toContain(PIN);
    await c.lock();
    expect((await c.status()).devices).toEqual([]);
    const ui = recordingUi();
    await c.unwrap({ family: 'test', identities: ids('tok1'), files, interactive: true, skipNotFound: false }, ui);
    expect(ui.seen[0]).toBe('secret Enter PIN for the test token');
    c.close();
    expect(logs).toContain('forgot test:tok1 (lock)');
  });

  it('a declined prompt reaches the family as a UiFailure; an unknown family is an error; the agent keeps serving', async () => {
    const c = await AgentConnection.open({ socket: sock });
    server.lock('lock');
    const ui = recordingUi();
    ui.requestSecret = async () => {
      throw new UiFailure('FAIL', 'declined');
    };
    await expect(c.unwrap({ family: 'test', identities: ids('tok2'), files, interactive: true, skipNotFound: false }, ui)).rejects.toThrow(AgentUnavailable);
    c.close();
    const c2 = await AgentConnection.open({ socket: sock });
    await expect(c2.unwrap({ family: 'nope', identities: [], files: [], interactive: false, skipNotFound: false }, recordingUi())).rejects.toThrow(/does not handle nope tokens/);
    expect((await c2.status()).pid).toBe(process.pid);
    c2.close();
  });

  it('a plugin that goes away in the middle of a prompt does not disturb the agent', async () => {
    server.lock('lock');
    const c = await AgentConnection.open({ socket: sock });
    const ui = recordingUi();
    let asked!: () => void;
    const prompted = new Promise<void>((r) => (asked = r));
    ui.requestSecret = () => {
      asked();
      return new Promise(() => undefined);
    };
    void c.unwrap({ family: 'test', identities: ids('tok3'), files, interactive: true, skipNotFound: false }, ui).catch(() => undefined);
    await prompted;
    c.close(); // the plugin process is gone while its user is being asked
    const c2 = await AgentConnection.open({ socket: sock });
    const r = await c2.unwrap({ family: 'test', identities: ids('tok3'), files, interactive: true, skipNotFound: false }, recordingUi());
    expect(r.fileKeys.size).toBe(2);
    c2.close();
  });

  it('a relayed message the operation did not wait for gets its reply after the result: the connection serves the next request', async () => {
    const c = await AgentConnection.open({ socket: sock });
    try {
      // The user's terminal is slow: the reply to the touch message comes after the result was sent.
      const slowUi = { ...recordingUi(), message: async () => void (await new Promise((r) => setTimeout(r, 300))) };
      for (let i = 0; i < 2; i++) {
        const r = await c.unwrap({ family: 'test', identities: ids('unawaited'), files, interactive: true, skipNotFound: false }, slowUi);
        expect([r.errors, [...r.fileKeys.keys()]]).toEqual([[], [0, 1]]);
      }
    } finally {
      c.close();
    }
    expect(logs.join('\n')).not.toMatch(/unexpected ui-reply|expected the reply/);
  });

  it('heartbeats keep a slow operation alive past the silence timeout', async () => {
    const c = await AgentConnection.open({ socket: sock, silenceTimeoutMs: 1000 });
    const r = await c.unwrap({ family: 'test', identities: ids('slow'), files, interactive: true, skipNotFound: false }, recordingUi());
    expect(r.fileKeys.size).toBe(2);
    c.close();
  });

  it('another protocol version gets an error naming the version it speaks', async () => {
    const got = await new Promise<unknown[]>((resolve) => {
      const s = connect(sock);
      const fr = new FrameReader();
      const out: unknown[] = [];
      s.on('data', (d) => out.push(...fr.push(new Uint8Array(d))));
      s.on('close', () => resolve(out));
      s.write(encodeFrame({ v: 7, t: 'hello', pub: 'AA' } as never));
    });
    expect(got).toEqual([{ v: 1, t: 'error', code: 'VERSION', message: 'protocol version 7 is not supported (this agent speaks 1)' }]);
  });

  it('a stale socket (no agent) and a silent agent are AgentUnavailable, quickly', async () => {
    const deadDir = mkdtempSync(join(tmpdir(), 'kb-dead-'));
    chmodSync(deadDir, 0o700);
    const dead = join(deadDir, 'a.sock');
    const held: import('node:net').Socket[] = [];
    const s: Server = createServer((c) => void held.push(c));
    await new Promise<void>((r) => s.listen(dead, r));
    try {
      // listening but never answering hello: a hung agent
      let t = Date.now();
      await expect(AgentConnection.open({ socket: dead, connectTimeoutMs: 300 })).rejects.toThrow(/did not answer within 300 ms/);
      expect(Date.now() - t).toBeLessThan(2000);
      for (const c of held) c.destroy();
      await new Promise<void>((r) => s.close(() => r()));
      writeFileSync(join(deadDir, 'x'), '');
      t = Date.now();
      await expect(AgentConnection.open({ socket: dead })).rejects.toThrow(AgentUnavailable);
      expect(Date.now() - t).toBeLessThan(1000);
      await expect(AgentConnection.open({ socket: join(deadDir, 'x') })).rejects.toThrow(/is not a socket/);
      chmodSync(deadDir, 0o755);
      await expect(AgentConnection.open({ socket: join(deadDir, 'x') })).rejects.toThrow(/accessible to other users/);
    } finally {
      rmSync(deadDir, { recursive: true, force: true });
    }
  });

  it.skipIf(!isRoot || !hasSetpriv)('another uid (nobody) is kept out by the 0700 directory, and refused by SO_PEERCRED when the directory is opened up', async () => {
    const client = (path: string) => `
      const net = require('net');
      const s = net.connect(${JSON.stringify(path)});
      const got = [];
      s.on('connect', () => {
        const hello = Buffer.from(JSON.stringify({ v: 1, t: 'hello', pub: Buffer.alloc(32, 9).toString('base64') }));
        const head = Buffer.alloc(4); head.writeUInt32BE(hello.length);
        s.write(Buffer.concat([head, hello]));
        const status = Buffer.from(JSON.stringify({ v: 1, t: 'status' }));
        const h2 = Buffer.alloc(4); h2.writeUInt32BE(status.length);
        s.write(Buffer.concat([h2, status]));
      });
      s.on('data', (d) => got.push(d));
      s.on('error', (e) => { console.log('ERR ' + e.code); });
      s.on('close', () => { console.log(Buffer.concat(got).toString('hex')); });`;
    const nobody = (path: string) => run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', client(path)]);
    const shut = await nobody(sock);
    expect(shut.stdout).toContain('ERR EACCES');
    chmodSync(dir, 0o711);
    chmodSync(join(dir, 'agent'), 0o711);
    chmodSync(sock, 0o666);
    try {
      const refused = await nobody(sock);
      expect(refused.code, refused.stderr).toBe(0);
      expect(refused.stdout).not.toContain('ERR');
      const bytes = Buffer.from(refused.stdout.trim().split('\n').pop()!, 'hex');
      const frames = new FrameReader().push(new Uint8Array(bytes));
      expect(frames).toEqual([{ v: 1, t: 'error', code: 'EPERM', message: `refused: this agent serves uid ${process.getuid!()} only` }]);
      expect(logs.some((l) => /^refused a connection from uid 65534 \(pid \d+\): this agent serves uid 0 only$/.test(l))).toBe(true);
      expect(bytes.includes(Buffer.from(PIN))).toBe(false);
    } finally {
      chmodSync(join(dir, 'agent'), 0o700);
      chmodSync(sock, 0o600);
    }
  });
});
