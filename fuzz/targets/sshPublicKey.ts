/** ssh-to-age's public-key lines (authorized_keys, known_hosts, keyscan) through the line converter. */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { convertPublicKeyLines, parsePublicKeyLine } from '../../src/ssh/lines.ts';
import { KeyConversionError } from '../../src/ssh/errors.ts';
import { EXTREME_U32, hostileText, mutatedBytes } from '../arbitraries.ts';
import { MAX_MESSAGE, registerTarget } from '../registry.ts';

const FIX = new URL('../../test/fixtures/ssh-to-age/', import.meta.url);
const lines = [
  ...readFileSync(new URL('id_ed25519.pub', FIX), 'utf8').split('\n'),
  ...readFileSync(new URL('keyscan.txt', FIX), 'utf8').split('\n'),
].filter(Boolean);
const blobs = lines.map((l) => Buffer.from(l.split(' ').find((f) => f.startsWith('AAAA')) ?? '', 'base64')).filter((b) => b.length);

const prefix = fc.constantFrom('', '  ', 'host.example ', '[h]:22 ', '@cert-authority * ', 'command="a b" ', 'no-pty ', '|1|x|y ');
const type = fc.constantFrom('ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'sk-ssh-ed25519@openssh.com', 'ssh-', 'x');
const blobText = fc.oneof(
  mutatedBytes(blobs).map((b) => Buffer.from(b).toString('base64')),
  fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('base64')),
  fc.constantFrom(...EXTREME_U32).map((n) => {
    const b = Buffer.alloc(8);
    b.writeUInt32BE(n >>> 0);
    return b.toString('base64');
  }),
  hostileText,
);
const line = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(prefix, type, blobText, fc.oneof(fc.constant(''), hostileText.map((t) => ` ${t}`))).map(([p, t, b, c]) => `${p}${t} ${b}${c}`) },
  { weight: 2, arbitrary: fc.constantFrom(...lines) },
  { weight: 1, arbitrary: hostileText },
  { weight: 1, arbitrary: fc.constantFrom('#', '', '\r', 'null', ' \t ') },
);

registerTarget({
  name: 'ssh-public-key',
  description: 'parsePublicKeyLine and convertPublicKeyLines on mutated key blobs, options, host prefixes and garbage',
  input: fc.array(line, { minLength: 1, maxLength: 6 }),
  run(ls) {
    for (const l of ls) {
      const o = parsePublicKeyLine(l);
      if (o.kind === 'error' && o.error.message.length > MAX_MESSAGE) throw new Error(`unbounded message (${o.error.message.length})`);
    }
    const r = convertPublicKeyLines(ls.join(ls.length % 2 ? '\n' : '\r\n'));
    if (r.error && (!(r.error.error instanceof KeyConversionError) || r.error.error.message.length > MAX_MESSAGE)) throw new Error('undocumented conversion error');
    for (const x of r.results) if ('recipient' in x && !/^age1[02-9ac-hj-np-z]{58}$/.test(x.recipient)) throw new Error(`bad recipient ${x.recipient}`);
  },
  documented: () => false,
});
