/**
 * The decoded plugin layer (runPluginV1) and the wire's bounds: Bech32 and HRP checked before a
 * handler sees anything, invalid strings answered with the handler's texts, hostile file indices
 * and non-UTF-8 secrets refused as protocol errors.
 */
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { base64nopad } from '@scure/base';
import { StanzaReader, type Stanza } from '../../src/age/stanza.ts';
import { encodePluginIdentity, encodePluginRecipient } from '../../src/age/bech32.ts';
import { runPluginV1, type Decoded, type PluginHandler } from '../../src/age/plugin/v1.ts';

function session(stateMachine: string, handler: PluginHandler) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (d) => (err += d));
  const exit = runPluginV1({ name: 'test', stateMachine, stdin, stdout, stderr, handler });
  const reader = new StanzaReader(stdout);
  return { send: (t: string) => stdin.write(t), next: () => reader.next(), end: () => stdin.end(), exit, stderr: () => err };
}

/** Answers every command with ok until done; returns what the plugin sent. */
async function drain(s: ReturnType<typeof session>, reply: (x: Stanza) => string = () => '-> ok\n\n'): Promise<Stanza[]> {
  const out: Stanza[] = [];
  for (;;) {
    const x = await s.next();
    if (!x || x.type === 'done') break;
    out.push(x);
    s.send(reply(x));
  }
  s.end();
  return out;
}

const text = (x: Stanza) => new TextDecoder().decode(x.body);

describe('runPluginV1', () => {
  it('hands identities over as (index, plugin, bytes); undecodable ones get the handler text after its file keys', async () => {
    let seen: Decoded[] = [];
    const s = session('identity-v1', {
      invalidRecipient: 'bad recipient',
      invalidIdentity: 'bad identity',
      async unwrapFileKeys(req, send) {
        seen = req.identities;
        await send.fileKey(0, new Uint8Array(16));
      },
    });
    const good = encodePluginIdentity('test', Uint8Array.of(1, 2, 3));
    s.send(`-> add-identity AGE-PLUGIN-TEST-1QQQQQQ\n\n-> add-identity ${good}\n\n-> add-identity ${good.toLowerCase()}\n\n-> recipient-stanza 0 test x\n\n-> done\n\n`);
    const out = await drain(s);
    expect(seen).toEqual([
      { index: 1, plugin: 'test', data: Uint8Array.of(1, 2, 3) },
      { index: 2, plugin: 'test', data: Uint8Array.of(1, 2, 3) },
    ]);
    expect(out.map((x) => [x.type, ...x.args])).toEqual([
      ['file-key', '0'],
      ['error', 'identity', '0'],
    ]);
    expect(text(out[1]!)).toBe('bad identity');
    expect(await s.exit).toBe(0);
  });

  it('recipient-v1: errors for undecodable recipients (uppercase, wrong HRP, bad checksum) and identities, in index order', async () => {
    const s = session('recipient-v1', {
      invalidRecipient: 'bad recipient',
      invalidIdentity: 'bad identity',
      async wrapFileKeys(req) {
        return { stanzas: req.fileKeys.map(() => req.recipients.map((r) => ({ type: 'test', args: [r.plugin], body: r.data }))) };
      },
    });
    const r = encodePluginRecipient('test', Uint8Array.of(9));
    s.send(`-> add-recipient ${r.toUpperCase()}\n\n-> add-recipient ${r}\n\n-> add-recipient AGE-PLUGIN-TEST-1QQQQQQ\n\n-> add-recipient ${r.slice(0, -1)}q\n\n-> add-identity nope\n\n-> wrap-file-key\n${base64nopad.encode(new Uint8Array(16))}\n-> done\n\n`);
    const out = await drain(s);
    expect(out.map((x) => [x.type, ...x.args, text(x)])).toEqual([
      ['error', 'recipient', '0', 'bad recipient'],
      ['error', 'recipient', '2', 'bad recipient'],
      ['error', 'recipient', '3', 'bad recipient'],
      ['error', 'identity', '0', 'bad identity'],
    ]);
  });

  it('a hostile file index is a protocol error, not an allocation', async () => {
    const s = session('identity-v1', { invalidRecipient: '', invalidIdentity: '', unwrapFileKeys: async () => undefined });
    s.send('-> add-identity AGE-PLUGIN-TEST-1QQQQQQ\n\n-> recipient-stanza 999999999 piv-p256 x\n\n-> done\n\n');
    expect(await s.exit).toBe(1);
    expect(s.stderr()).toBe('age-plugin-test: protocol error: file index 999999999 out of range (at most 9999)\n');
  });

  it('a request-secret reply that is not UTF-8 is a protocol error (and is not quoted)', async () => {
    const s = session('identity-v1', {
      invalidRecipient: '',
      invalidIdentity: '',
      async unwrapFileKeys(req) {
        await req.ui.requestSecret('PIN');
      },
    });
    s.send(`-> add-identity ${encodePluginIdentity('test', Uint8Array.of(1))}\n\n-> done\n\n`);
    expect((await s.next())!.type).toBe('request-secret');
    s.send(`-> ok\n${base64nopad.encode(Uint8Array.of(0xff, 0xfe, 0x31))}\n`);
    expect(await s.exit).toBe(1);
    expect(s.stderr()).toBe('age-plugin-test: protocol error: the age client sent a secret that is not valid UTF-8\n');
  });
});

describe('wire bounds', () => {
  it('a stanza body without end is a protocol error once it passes 1 MiB', async () => {
    const s = session('identity-v1', { invalidRecipient: '', invalidIdentity: '', unwrapFileKeys: async () => undefined });
    const line = 'A'.repeat(64) + '\n';
    s.send('-> recipient-stanza 0 x\n');
    for (let i = 0; i < 22_000; i++) s.send(line);
    expect(await s.exit).toBe(1);
    expect(s.stderr()).toBe('age-plugin-test: protocol error: stanza body larger than 1048576 bytes\n');
  });
});
