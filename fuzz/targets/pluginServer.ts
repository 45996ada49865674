/**
 * The plugin side of the age plugin protocol (runPlugin, both state machines) driven by a hostile
 * client: generated transcripts of valid commands, grease, mutations and garbage, including
 * responses to the plugin's interactive commands. It must end (exit 0 or 1) for every input,
 * never throw, and keep its messages short.
 */
import fc from 'fast-check';
import { PassThrough, Writable } from 'node:stream';
import { encodeStanza, type Stanza } from '../../src/age/stanza.ts';
import { runPlugin, type IdentityV1Handler, type RecipientV1Handler } from '../../src/age/plugin/server.ts';
import { hostileText, mutatedBytes } from '../arbitraries.ts';
import { registerTarget } from '../registry.ts';

const te = new TextEncoder();
const b64 = (s: string) => Buffer.from(s).toString('base64').replace(/=+$/, '');

const recipientHandler: RecipientV1Handler = {
  async wrapFileKeys(req) {
    if (req.recipients.some((r) => r.endsWith('x'))) return { stanzas: [], errors: [{ kind: 'recipient', index: 0, message: 'no' }] };
    return { stanzas: req.fileKeys.map((k) => [...req.recipients, ...req.identities].map(() => ({ type: 'fuzz', args: ['t'], body: k }))), labels: ['postquantum'] };
  },
};

const identityHandler: IdentityV1Handler = {
  async unwrapFileKeys(req, send) {
    if (req.identities.length > 1) await req.ui.message('several identities');
    if (req.identities.some((i) => i.endsWith('Q'))) await req.ui.requestSecret('Enter PIN');
    if (req.identities.some((i) => i.endsWith('P'))) await req.ui.confirm('Insert it', 'yes', 'no');
    for (const [i, file] of req.files.entries()) {
      const s = file.find((x) => x.type === 'fuzz');
      if (!s) continue;
      if (s.body.length !== 16) await send.error({ kind: 'stanza', file: i, index: file.indexOf(s), message: 'bad' });
      else await send.fileKey(i, s.body);
    }
  },
};

const st = (type: string, args: string[], body: Uint8Array = new Uint8Array(0)): Stanza => ({ type, args, body });
const fileKey = new Uint8Array(16).fill(3);
const commands: Stanza[] = [
  st('add-recipient', ['age1fuzz1qqqq']),
  st('add-recipient', ['age1fuzz1x']),
  st('add-identity', ['AGE-PLUGIN-FUZZ-1QQQQ']),
  st('add-identity', ['AGE-PLUGIN-FUZZ-1P']),
  st('wrap-file-key', [], fileKey),
  st('extension-labels', []),
  st('recipient-stanza', ['0', 'fuzz', 't'], fileKey),
  st('recipient-stanza', ['1', 'fuzz', 't'], new Uint8Array(5)),
  st('recipient-stanza', ['4096', 'fuzz', 't'], fileKey),
  st('recipient-stanza', ['-1', 'fuzz'], fileKey),
  st('recipient-stanza', ['0x10', 'X25519', 'a'], fileKey),
  // File indexes at and past the bound (at most 9,999), and far past it (issue 16: 99,999,999
  // once made identity-v1 allocate until the heap died).
  st('recipient-stanza', ['9999', 'fuzz', 't'], fileKey),
  st('recipient-stanza', ['10000', 'fuzz', 't'], fileKey),
  st('recipient-stanza', ['99999999', 'fuzz', 't'], fileKey),
  st('recipient-stanza', ['999999999', 'fuzz', 't'], fileKey),
  st('recipient-stanza', ['4294967296', 'fuzz', 't'], fileKey),
  st('grease-1', ['a', 'b'], new Uint8Array(20)),
  st('done', []),
  st('ok', []),
  st('ok', [], te.encode('123456')),
  st('ok', [], Uint8Array.of(0xff, 0xfe, 0x80)),
  st('ok', ['yes']),
  st('fail', []),
  st('unsupported', []),
];
const samples = commands.map((c) => te.encode(encodeStanza(c)));

const piece: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...samples) },
  { weight: 3, arbitrary: mutatedBytes(samples) },
  { weight: 1, arbitrary: hostileText.map((t) => te.encode(`-> ${t}\n${b64(t)}\n`)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 80 }) },
);

const input = fc.record({
  stateMachine: fc.constantFrom('recipient-v1', 'identity-v1', 'identity-v1', 'recipient-v2'),
  transcript: fc.array(piece, { minLength: 0, maxLength: 14 }).map((ps) => new Uint8Array(Buffer.concat(ps))),
  closeEarly: fc.boolean(),
});

class Sink extends Writable {
  length = 0;
  lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.length += chunk.length;
    if (this.lines.length < 50) this.lines.push(chunk.toString('latin1'));
    cb();
  }
}

registerTarget({
  name: 'plugin-server',
  description: 'runPlugin (recipient-v1, identity-v1, unknown machines) against generated hostile client transcripts',
  input,
  async run({ stateMachine, transcript, closeEarly }) {
    const stdin = new PassThrough();
    const stdout = new Sink();
    const stderr = new Sink();
    const exit = runPlugin({ name: 'fuzz', stateMachine, stdin, stdout, stderr, recipient: recipientHandler, identity: identityHandler });
    if (closeEarly) stdin.end(transcript.subarray(0, transcript.length >> 1));
    else stdin.end(transcript);
    const code = await exit;
    if (code !== 0 && code !== 1 && code !== 4) throw new Error(`exit code ${code}`);
    if (stderr.length > 1000) throw new Error(`unbounded stderr (${stderr.length} bytes)`);
    if (stdout.length > 1_000_000) throw new Error(`unbounded stdout (${stdout.length} bytes)`);
  },
  documented: () => false,
});
