/**
 * A hostile card behind the SmartCard-HSM session (src/tokens/schsm, through an injected
 * ApduTransport): every response is generated from answers a virtual Pico HSM really gave
 * (select FCI, PIN status, object list, CV requests of P-256 and X25519 keys, key descriptions,
 * the device certificate, ECDH results, data objects), mutated, or random, with any status word,
 * 61xx chaining that never ends, short answers and a reader that fails. Operations end with an
 * ScHsmError (the shared TokenError vocabulary) or the reader's own PC/SC error, never a crash,
 * a hang or unbounded memory, and what they return has the documented shape.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { DEFAULT_PIN } from '../../src/sim/picohsm/card.ts';
import { ScHsmError } from '../../src/tokens/schsm/errors.ts';
import { ScHsmSession } from '../../src/tokens/schsm/session.ts';
import { TransportError } from '../../src/transport/apdu.ts';
import type { ApduTransport } from '../../src/transport/types.ts';
import { mutatedBytes } from '../arbitraries.ts';
import { boundedError, registerTarget } from '../registry.ts';
import { PEER_P256, PEER_X25519, PQ_SEED, PRKD } from './schsmInputs.ts';

/**
 * The answers a virtual Pico HSM gave to what a plugin does (data and status word, one hex line
 * each), recorded once by `npx tsx fuzz/record-schsm.ts` so that a seed always means the same cases.
 */
const recorded = readFileSync(new URL('../corpus/schsm-answers.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((h) => Uint8Array.from(Buffer.from(h, 'hex')));
const plausibleData = [...new Map(recorded.map((r) => [Buffer.from(r.subarray(0, -2)).toString('hex'), r.subarray(0, -2)])).values()];

const sw = fc.oneof(
  { weight: 6, arbitrary: fc.constant(0x9000) },
  { weight: 3, arbitrary: fc.constantFrom(0x61ff, 0x6100, 0x6110, 0x63c0, 0x63c1, 0x63c3, 0x63cf, 0x6282, 0x6600, 0x6982, 0x6983, 0x6984, 0x6985, 0x6a81, 0x6a82, 0x6a84, 0x6a88, 0x6700, 0x6d00) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);
const withSw = ([d, s]: [Uint8Array, number]) => {
  const r = new Uint8Array(d.length + 2);
  r.set(d);
  r[d.length] = s >> 8;
  r[d.length + 1] = s & 0xff;
  return r;
};
type Scripted = Uint8Array | { throws: 'CARD_REMOVED' | 'READER_BUSY' | 'PCSC' };
const response: fc.Arbitrary<Scripted> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...recorded) },
  { weight: 20, arbitrary: fc.tuple(mutatedBytes(plausibleData), sw).map(withSw) },
  { weight: 3, arbitrary: fc.tuple(fc.uint8Array({ maxLength: 300 }), sw).map(withSw) },
  { weight: 1, arbitrary: fc.integer({ min: 0x7ff0, max: 0x10010 }).map((n) => withSw([new Uint8Array(n).fill(0x30), 0x9000])) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom('CARD_REMOVED', 'READER_BUSY', 'PCSC').map((code) => ({ throws: code }) as const) },
);

const OPS: Record<string, (s: ScHsmSession) => Promise<void>> = {
  async select(s) {
    const i = await s.select();
    if (i.version.some((v) => !Number.isInteger(v) || v < 0 || v > 255) || i.options < 0 || i.options > 0xffff) throw new Error(`select returned ${JSON.stringify(i)}`);
  },
  async pinStatus(s) {
    const p = await s.pinStatus();
    if (p.initialised && !p.verified && (p.retriesLeft < 0 || p.retriesLeft > 15)) throw new Error(`pinStatus returned ${p.retriesLeft} tries`);
  },
  verifyPin: (s) => s.verifyPin(DEFAULT_PIN),
  async listKeyIds(s) {
    const ids = await s.listKeyIds();
    if (ids.some((id) => id < 0 || id > 255) || ids.length > 0x4000) throw new Error('listKeyIds returned an impossible list');
  },
  async freeKeyId(s) {
    const id = await s.freeKeyId();
    if (id < 1 || id > 255) throw new Error(`freeKeyId returned ${id}`);
  },
  async readPublicKey(s) {
    const k = await s.readPublicKey(1);
    if ((k.curve === 'p256' && k.publicKey.length !== 65) || (k.curve === 'x25519' && k.publicKey.length !== 32)) throw new Error('readPublicKey returned a key of the wrong size');
  },
  async readKeyDescription(s) {
    const d = await s.readKeyDescription(1);
    if (d && (d.id.length > 0x8000 || d.label.length > 0x8000)) throw new Error('readKeyDescription returned an unbounded description');
  },
  async readDataObject(s) {
    if ((await s.readFile(PQ_SEED)).length > 0x8000) throw new Error('readFile returned more than a file can hold');
  },
  async serial(s) {
    const serial = await s.serial();
    if (!/^[\x20-\x7e]{1,11}$/.test(serial)) throw new Error(`serial ${JSON.stringify(serial.slice(0, 40))}`);
  },
  async generateP256(s) {
    const k = await s.generateKey(1, 'p256', { chr: 'KBAGE00001' });
    if (k.curve !== 'p256' || k.publicKey.length !== 65) throw new Error('generateKey returned another key');
  },
  async generateX25519(s) {
    const k = await s.generateKey(2, 'x25519', { chr: 'KBAGE00002' });
    if (k.curve !== 'x25519' || k.publicKey.length !== 32) throw new Error('generateKey returned another key');
  },
  writeKeyDescription: (s) => s.writeKeyDescription(1, PRKD),
  writeDataObject: (s) => s.writeFile(PQ_SEED, new Uint8Array(70)),
  async ecdhP256(s) {
    if ((await s.ecdh(1, PEER_P256)).length !== 32) throw new Error('ecdh returned a secret of the wrong size');
  },
  async ecdhX25519(s) {
    if ((await s.ecdh(2, PEER_X25519)).length !== 32) throw new Error('ecdh returned a secret of the wrong size');
  },
  deleteKey: (s) => s.deleteKey(1),
};

const input = fc.record({
  responses: fc.array(response, { maxLength: 12 }),
  /** What the card does once the script is used up. */
  then: fc.constantFrom('6a82', '9000', '61ff', 'short', 'removed'),
  ops: fc.array(fc.constantFrom(...Object.keys(OPS)), { minLength: 1, maxLength: 5 }),
});

function scripted(responses: Scripted[], then: string): ApduTransport {
  let i = 0;
  const more = Uint8Array.from([...new Uint8Array(255).fill(0xaa), 0x61, 0xff]);
  return {
    async transmit() {
      const r = responses[i++];
      if (r instanceof Uint8Array) return r;
      if (r) throw new TransportError(r.throws, `Reader 0: ${r.throws === 'PCSC' ? 'SCardTransmit failed: Transaction failed.' : r.throws}`);
      switch (then) {
        case '61ff':
          return more;
        case 'short':
          return Uint8Array.of(0x90);
        case 'removed':
          throw new TransportError('CARD_REMOVED', 'Reader 0: the card was removed');
        default:
          return Uint8Array.from(Buffer.from(then, 'hex'));
      }
    },
    async close() {},
  };
}

/** Documented: the session's typed errors, and the reader's own PC/SC failure passed through. */
const documented = (e: unknown) => boundedError(e, ScHsmError) || (boundedError(e, TransportError) && (e as TransportError).code === 'PCSC');

registerTarget({
  name: 'schsm-session',
  description: 'ScHsmSession operations against a card whose every response is generated (recorded Pico HSM answers mutated, status words, endless 61xx, short answers, reader failures)',
  input,
  async run({ responses, then, ops }) {
    const session = new ScHsmSession(scripted(responses, then));
    for (const op of ops) {
      try {
        await OPS[op]!(session);
      } catch (e) {
        if (!documented(e)) throw e;
      }
    }
  },
  documented: () => false,
});
