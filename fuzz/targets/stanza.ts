/** The age stanza reader (src/age/stanza.ts) on hostile byte streams, split at random points. */
import fc from 'fast-check';
import { encodeStanza, ProtocolError, StanzaReader } from '../../src/age/stanza.ts';
import { mutatedBytes } from '../arbitraries.ts';
import { boundedError, registerTarget } from '../registry.ts';

const te = new TextEncoder();
const samples = [
  encodeStanza({ type: 'X25519', args: ['CJM36AHmTbdHSuOQL+NESqyVQE75f2e610iRdLPEN20'], body: new Uint8Array(32).fill(7) }),
  encodeStanza({ type: 'piv-p256', args: ['A6z+6A', 'AglmI9ZmdjXo2jE0WyyzR96T+3E1CCUKmcEC26+ZZGJ7'], body: new Uint8Array(32) }),
  encodeStanza({ type: 'recipient-stanza', args: ['0', 'piv-p256', 'tag'], body: new Uint8Array(48).fill(1) }) + '-> done\n\n',
  encodeStanza({ type: 'grease', args: [], body: new Uint8Array(0) }),
  encodeStanza({ type: 'a', args: ['b'], body: new Uint8Array(64).fill(9) }),
].map((s) => te.encode(s));

const input = fc.record({
  bytes: fc.oneof(
    { weight: 6, arbitrary: fc.array(mutatedBytes(samples), { minLength: 1, maxLength: 4 }).map((parts) => new Uint8Array(Buffer.concat(parts))) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 300 }).map((s) => te.encode(s)) },
    { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 70_000 }).map((n) => te.encode(`-> ${'a'.repeat(n)}\n\n`)) },
  ),
  cuts: fc.array(fc.nat(), { maxLength: 5 }),
});

async function* chunks(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  const points = [...new Set(cuts.map((c) => (bytes.length ? c % bytes.length : 0)))].sort((a, b) => a - b);
  let last = 0;
  for (const p of points) {
    yield bytes.subarray(last, p);
    last = p;
  }
  yield bytes.subarray(last);
}

registerTarget({
  name: 'stanza-reader',
  description: 'StanzaReader.next() over mutated stanzas, random bytes and over-long lines, split into chunks anywhere',
  input,
  async run({ bytes, cuts }) {
    const r = new StanzaReader(chunks(bytes, cuts));
    for (let i = 0; i < 10_000; i++) {
      const s = await r.next();
      if (s === null) return;
      if (typeof s.type !== 'string' || !(s.body instanceof Uint8Array)) throw new Error('malformed stanza object');
    }
    throw new Error('more stanzas than bytes');
  },
  documented: (e) => boundedError(e, ProtocolError),
});
