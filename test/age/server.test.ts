/**
 * Conformance of the plugin side: transcripts from the reference (age 1.1.1 with a test plugin
 * "dummy"), grease in every position, unknown commands, several files and identities, labels,
 * malformed input, a client that hangs up at every step. Every exchange is bounded by a timeout.
 */
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { base64nopad } from '@scure/base';
import { encodeStanza, StanzaReader, type Stanza } from '../../src/age/stanza.ts';
import { runPlugin, type IdentityV1Handler, type RecipientV1Handler } from '../../src/age/plugin/server.ts';
import type { PluginUi } from '../../src/age/plugin/ui.ts';

const te = new TextEncoder();
const b64 = (s: string) => base64nopad.encode(te.encode(s));

/** The reference's test plugin: "wraps" by copying the file key into `-> dummy tag123`. */
const dummyRecipient: RecipientV1Handler = {
  async wrapFileKeys(req) {
    const bad = req.recipients.findIndex((r) => !r.startsWith('age1dummy1'));
    if (bad >= 0) return { stanzas: [], errors: [{ kind: 'recipient', index: bad, message: 'not a dummy recipient' }] };
    return { stanzas: req.fileKeys.map((k) => [...req.recipients, ...req.identities].map(() => ({ type: 'dummy', args: ['tag123'], body: k }))), labels: ['postquantum'] };
  },
};

function dummyIdentity(opts: { message?: string; ask?: (ui: PluginUi) => Promise<void> } = {}): IdentityV1Handler {
  return {
    async unwrapFileKeys(req, send) {
      if (opts.message) await req.ui.message(opts.message);
      if (opts.ask) await opts.ask(req.ui);
      for (const [i, file] of req.files.entries()) {
        const s = file.find((x) => x.type === 'dummy');
        if (!s) continue;
        if (s.body.length !== 16) await send.error({ kind: 'stanza', file: i, index: file.indexOf(s), message: 'bad dummy stanza' });
        else await send.fileKey(i, s.body);
      }
    },
  };
}

interface Session {
  send(text: string): void;
  next(): Promise<Stanza | null>;
  end(): void;
  exit: Promise<number>;
  stderr: () => string;
}

function start(stateMachine: string, handlers: { recipient?: RecipientV1Handler; identity?: IdentityV1Handler }): Session {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (d) => (err += d));
  const exit = runPlugin({ name: 'dummy', stateMachine, stdin, stdout, stderr, ...handlers });
  const reader = new StanzaReader(stdout);
  return { send: (t) => stdin.write(t), next: () => reader.next(), end: () => stdin.end(), exit, stderr: () => err };
}

/** Collects everything the plugin writes, as text, until it exits. */
async function transcript(stateMachine: string, handlers: Parameters<typeof start>[1], clientLines: string, replies: (s: Stanza) => string | null): Promise<{ out: string; code: number }> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d) => (out += d));
  const reader = new StanzaReader(stdout);
  const exit = runPlugin({ name: 'dummy', stateMachine, stdin, stdout, stderr: new PassThrough(), ...handlers });
  stdin.write(clientLines);
  for (;;) {
    const s = await Promise.race([reader.next(), exit.then(() => null)]);
    if (!s) break;
    if (s.type === 'done') break;
    const r = replies(s);
    if (r !== null) stdin.write(r);
  }
  const code = await exit;
  stdin.end();
  return { out, code };
}

const FILE_KEY = 'zq2S+W8VzpAE7wJYJotr0Q';

describe('plugin side: reference transcripts (age 1.1.1)', () => {
  it('recipient-v1 byte for byte', async () => {
    const { out, code } = await transcript(
      'recipient-v1',
      { recipient: dummyRecipient },
      `-> add-recipient age1dummy1qypqxpq9qcrssegu4c8\n\n-> wrap-file-key\n${FILE_KEY}\n-> done\n\n`,
      () => '-> ok\n\n',
    );
    expect(code).toBe(0);
    expect(out).toBe(`-> recipient-stanza 0 dummy tag123\n${FILE_KEY}\n-> done\n\n`);
  });

  it('identity-v1 with a msg, byte for byte', async () => {
    const { out, code } = await transcript(
      'identity-v1',
      { identity: dummyIdentity({ message: 'hello from dummy plugin' }) },
      `-> add-identity AGE-PLUGIN-DUMMY-1PG9SCRGTRU93L\n\n-> recipient-stanza 0 dummy tag123\n${FILE_KEY}\n-> done\n\n`,
      () => '-> ok\n\n',
    );
    expect(code).toBe(0);
    expect(out).toBe(`-> msg\naGVsbG8gZnJvbSBkdW1teSBwbHVnaW4\n-> file-key 0\n${FILE_KEY}\n-> done\n\n`);
  });
});

describe('plugin side: conformance', () => {
  const grease = [
    '-> grease-5a1f\n\n', // Go 1.2
    '-> grease-0e 12 7\nAAEC\n', // Go 1.3: args and a body
    '-> ab~d-grease x y z\n' + 'A'.repeat(64) + '\nAAA\n', // rage: odd type, multi-line body
  ];
  for (const [gi, g] of grease.entries()) {
    for (const pos of [0, 1, 2, 3]) {
      it(`ignores grease #${gi} at position ${pos} of phase 1 (identity-v1)`, async () => {
        const parts = ['-> add-identity AGE-PLUGIN-DUMMY-1PG9SCRGTRU93L\n\n', `-> recipient-stanza 0 dummy tag123\n${FILE_KEY}\n`, '-> unknown-command 1\n\n'];
        parts.splice(pos, 0, g);
        const { out } = await transcript('identity-v1', { identity: dummyIdentity() }, parts.join('') + '-> done\n\n', () => '-> ok\n\n');
        expect(out).toBe(`-> file-key 0\n${FILE_KEY}\n-> done\n\n`);
      });
    }
  }

  it('several files and identities; foreign stanzas ignored; one key per file', async () => {
    const client =
      '-> add-identity AGE-PLUGIN-DUMMY-1PG9SCRGTRU93L\n\n-> add-identity AGE-PLUGIN-DUMMY-1PG9SCRGTRU93L\n\n' +
      `-> recipient-stanza 0 X25519 abc\n${FILE_KEY}\n-> recipient-stanza 0 dummy tag123\n${FILE_KEY}\n` +
      `-> recipient-stanza 2 dummy tag123\nAAECAwQFBgcICQoLDA0ODw\n-> recipient-stanza 3 dummy tag123\nAAEC\n-> done\n\n`;
    const { out } = await transcript('identity-v1', { identity: dummyIdentity() }, client, () => '-> ok\n\n');
    expect(out).toBe(`-> file-key 0\n${FILE_KEY}\n-> file-key 2\nAAECAwQFBgcICQoLDA0ODw\n-> error stanza 3 0\n${b64('bad dummy stanza')}\n-> done\n\n`);
  });

  it('recipient-v1: several recipients and file keys, labels when announced, errors instead of stanzas', async () => {
    const client = `-> add-recipient age1dummy1qypqxpq9qcrssegu4c8\n\n-> add-recipient age1dummy1qypqxpq9qcrssegu4c8\n\n-> extension-labels\n\n-> wrap-file-key\n${FILE_KEY}\n-> wrap-file-key\nAAECAwQFBgcICQoLDA0ODw\n-> done\n\n`;
    const { out } = await transcript('recipient-v1', { recipient: dummyRecipient }, client, () => '-> ok\n\n');
    expect(out).toBe(
      `-> labels postquantum\n\n-> recipient-stanza 0 dummy tag123\n${FILE_KEY}\n-> recipient-stanza 0 dummy tag123\n${FILE_KEY}\n` +
        `-> recipient-stanza 1 dummy tag123\nAAECAwQFBgcICQoLDA0ODw\n-> recipient-stanza 1 dummy tag123\nAAECAwQFBgcICQoLDA0ODw\n-> done\n\n`,
    );
    const bad = await transcript('recipient-v1', { recipient: dummyRecipient }, `-> add-recipient age1other1xyz\n\n-> wrap-file-key\n${FILE_KEY}\n-> done\n\n`, () => '-> ok\n\n');
    expect(bad.out).toBe(`-> error recipient 0\n${b64('not a dummy recipient')}\n-> done\n\n`);
  });

  it('interactive commands: confirm yes/no/unsupported, request-secret ok/fail', async () => {
    const seen: unknown[] = [];
    const ask = async (ui: PluginUi) => {
      seen.push(await ui.confirm('Insert it', 'Plugged in', 'Skip'));
      seen.push(await ui.confirm('Again', 'Yes'));
      seen.push(await ui.confirm('Old client', 'Yes'));
      seen.push(await ui.requestSecret('PIN?'));
      await ui.requestSecret('PIN again?').catch((e) => seen.push(e.code));
    };
    const replies = ['-> ok yes\n\n', '-> ok no\n\n', '-> unsupported\n\n', `-> ok\n${b64('123456')}\n`, '-> fail\n\n', '-> ok\n\n'];
    const sent: string[] = [];
    const { out } = await transcript(
      'identity-v1',
      { identity: dummyIdentity({ ask }) },
      '-> add-identity AGE-PLUGIN-DUMMY-1PG9SCRGTRU93L\n\n-> done\n\n',
      (s) => (sent.push(`${s.type} ${s.args.join(' ')}`.trim()), replies.shift()!),
    );
    expect(seen).toEqual([true, false, 'unsupported', '123456', 'FAIL']);
    expect(sent).toEqual([`confirm ${b64('Plugged in')} ${b64('Skip')}`, `confirm ${b64('Yes')}`, `confirm ${b64('Yes')}`, 'request-secret', 'request-secret']);
    expect(out).toContain(`-> request-secret\n${b64('PIN?')}\n`);
    expect(out.endsWith('-> done\n\n')).toBe(true);
  });

  it('refuses an unknown state machine with exit code 4 and a clear message', async () => {
    const s = start('identity-v2', { identity: dummyIdentity() });
    expect(await s.exit).toBe(4);
    expect(s.stderr()).toContain('unknown state machine "identity-v2"');
  });

  const malformed = ['-> add-identity AGE-PLUGIN-DUMMY-1PG9SCRGTRU93L\r\n\n', '-> recipient-stanza 0 dummy\nAB\n', '-> recipient-stanza x dummy\n\n', '-> recipient-stanza 0\n\n', `-> recipient-stanza 1 dummy t\n\n-> recipient-stanza 0 dummy t\n\n`, '-> add-identity\n\n', `-> x\n${'A'.repeat(65)}\n`];
  for (const m of malformed) {
    it(`malformed input ${JSON.stringify(m.slice(0, 40))} ends the plugin with a protocol error`, async () => {
      const s = start('identity-v1', { identity: dummyIdentity() });
      s.send(m + '-> done\n\n');
      expect(await s.exit).toBe(1);
      expect(s.stderr()).toMatch(/protocol error/);
    });
  }

  const steps = ['', '-> add-identity AGE-PLUGIN-DUMMY-1PG9SCRGTRU93L\n\n', `-> recipient-stanza 0 dummy tag123\n${FILE_KEY}\n`, '-> done\n\n'];
  for (let n = 0; n < steps.length; n++) {
    it(`exits promptly when the client hangs up after ${n} of ${steps.length - 1} phase-1 stanzas${n === 3 ? ' (while a reply is awaited)' : ''}`, async () => {
      const s = start('identity-v1', { identity: dummyIdentity({ message: 'hi' }) });
      s.send(steps.slice(0, n + 1).join(''));
      s.end();
      const code = await Promise.race([s.exit, new Promise((r) => setTimeout(() => r('hang'), 10_000))]);
      expect(code).toBe(1);
      expect(s.stderr()).toMatch(/closed the connection|protocol error/);
    });
  }

  it('exits promptly when the client goes away while the plugin works', async () => {
    let release!: () => void;
    let working!: () => void;
    const started = new Promise<void>((r) => (working = r));
    const slow: IdentityV1Handler = {
      unwrapFileKeys: () => {
        working();
        return new Promise<void>((r) => (release = r));
      },
    };
    const s = start('identity-v1', { identity: slow });
    s.send('-> add-identity AGE-PLUGIN-DUMMY-1PG9SCRGTRU93L\n\n-> done\n\n');
    await started;
    s.end();
    const code = await Promise.race([s.exit, new Promise((r) => setTimeout(() => r('hang'), 10_000))]);
    release();
    expect(code).toBe(1);
  });
});
