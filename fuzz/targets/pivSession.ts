/**
 * A hostile card behind the PIV session (src/tokens/piv, through an injected ApduTransport):
 * every response is generated — random data, any status word, 61xx chaining that never ends,
 * truncated TLVs, wrong lengths. Operations end with PivError, StatusWordError, TransportError or
 * TlvError, never a crash, a hang or unbounded memory.
 */
import fc from 'fast-check';
import { PivSession } from '../../src/tokens/piv/session.ts';
import { PivError } from '../../src/tokens/piv/errors.ts';
import { KeyAlgorithm } from '../../src/tokens/piv/constants.ts';
import { StatusWordError, TransportError } from '../../src/transport/apdu.ts';
import { TlvError, tlv } from '../../src/transport/tlv.ts';
import type { ApduTransport } from '../../src/transport/types.ts';
import { mutatedBytes } from '../arbitraries.ts';
import { boundedError, registerTarget } from '../registry.ts';

const sw = fc.oneof(
  { weight: 6, arbitrary: fc.constant(0x9000) },
  { weight: 2, arbitrary: fc.constantFrom(0x61ff, 0x6110, 0x6100, 0x63c0, 0x63c3, 0x6983, 0x6a82, 0x6d00, 0x6982, 0x6a80, 0x6700, 0x6985) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);
// Plausible PIV payloads (metadata, version, serial, object, ECDH result), then mutated.
const plausible = [
  Uint8Array.of(5, 7, 1),
  Uint8Array.of(0x00, 0xbc, 0x61, 0x4e),
  new Uint8Array(Buffer.concat([tlv(0x01, Uint8Array.of(0x11)), tlv(0x02, Uint8Array.of(2, 3)), tlv(0x03, Uint8Array.of(2)), tlv(0x04, tlv(0x86, new Uint8Array(65).fill(4)))])),
  new Uint8Array(tlv(0x53, tlv(0x70, new Uint8Array(300).fill(0x30)))),
  new Uint8Array(tlv(0x7c, tlv(0x82, new Uint8Array(32).fill(9)))),
  new Uint8Array(tlv(0x7f49, tlv(0x86, new Uint8Array(65).fill(4)))),
  Uint8Array.of(0x01, 0x01, 0x03),
];
const response = fc.tuple(fc.oneof({ weight: 3, arbitrary: mutatedBytes(plausible) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) }, { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) }), sw).map(([d, s]) => {
  const r = new Uint8Array(d.length + 2);
  r.set(d);
  r[d.length] = s >> 8;
  r[d.length + 1] = s & 0xff;
  return r;
});
const input = fc.record({
  responses: fc.array(fc.oneof({ weight: 20, arbitrary: response }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1 }) }), { maxLength: 12 }),
  /** What the card says once the script is used up: an error, or "more data" forever. */
  then: fc.constantFrom('6a82', '61ff', '9000'),
  ops: fc.array(fc.constantFrom('select', 'version', 'serial', 'pinStatus', 'verifyPin', 'metadata', 'mgmtAlg', 'object', 'certificate', 'ecdh', 'attest', 'supportsMetadata'), { minLength: 1, maxLength: 5 }),
});

/** The session operations a plugin uses, by name. */
const OPS: Record<string, (piv: PivSession) => Promise<unknown>> = {
  select: (p) => p.select(),
  version: (p) => p.getVersion(),
  serial: (p) => p.getSerial(),
  pinStatus: (p) => p.pinStatus(),
  verifyPin: (p) => p.verifyPin('123456'),
  metadata: (p) => p.getMetadata(0x82),
  mgmtAlg: (p) => p.getMgmtKeyAlgorithm(),
  object: (p) => p.getObject(0x5fc10a),
  certificate: (p) => p.getCertificate(0x82),
  ecdh: (p) => p.calculateSecret(0x82, KeyAlgorithm.EccP256, new Uint8Array(65).fill(4)),
  attest: (p) => p.attest(0x82),
  supportsMetadata: (p) => p.supportsMetadata(),
};

function scripted(responses: Uint8Array[], then: string): ApduTransport {
  let i = 0;
  const tail = then === '61ff' ? Uint8Array.from([...new Uint8Array(255).fill(0xaa), 0x61, 0xff]) : Uint8Array.from(Buffer.from(then, 'hex'));
  return {
    async transmit() {
      return responses[i++] ?? tail;
    },
    async close() {},
  };
}

registerTarget({
  name: 'piv-session',
  description: 'PivSession operations against a card whose every response is generated (data, status words, endless 61xx chaining)',
  input,
  async run({ responses, then, ops }) {
    const piv = new PivSession(scripted(responses, then));
    for (const op of ops) {
      try {
        await OPS[op]!(piv);
      } catch (e) {
        if (!boundedError(e, PivError, StatusWordError, TransportError, TlvError)) throw e;
      }
    }
  },
  documented: () => false,
});
