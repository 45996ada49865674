/**
 * Property tests for the FIDO2 parsers that read hostile input: fido2-hmac recipients,
 * identities and stanzas, fido2prf identities, CTAP authenticator data, and the virtual
 * authenticator's CBOR requests. Each either returns a value that re-encodes to its input or
 * throws its own typed error — never anything else, never hangs.
 */
import fc from 'fast-check';
import { base64nopad } from '@scure/base';
import { describe, expect, it } from 'vitest';
import * as hmac from '../../src/plugins/fido2-hmac/format.ts';
import * as prf from '../../src/plugins/fido2prf/format.ts';
import { parseAuthData } from '../../src/tokens/ctap2/authData.ts';
import { Ctap2Error } from '../../src/tokens/ctap2/errors.ts';
import { VirtualAuthenticator } from '../../src/sim/fido2/authenticator.ts';
import { Fido2StateStore, freshFido2State } from '../../src/sim/fido2/state.ts';

const bytes = fc.uint8Array({ maxLength: 400 });

describe('FIDO2 parsers on arbitrary input', () => {
  it('fido2-hmac recipients and identities: FormatError or an exact round trip', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        for (const [decode, encode] of [
          [hmac.decodeRecipient, hmac.encodeRecipient],
          [hmac.decodeIdentity, hmac.encodeIdentity],
        ] as const) {
          let v;
          try {
            v = decode(b);
          } catch (e) {
            expect(e).toBeInstanceOf(hmac.FormatError);
            continue;
          }
          if (v.version === 'dataless') continue;
          expect(encode(v as never)).toEqual(b);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('fido2-hmac stanzas: FormatError or a parsed stanza', () => {
    const arg = fc.oneof(fc.constantFrom('AAI', 'AQ', 'AA', 'A'.repeat(43), 'AAAAAAAAAAAAAAAA'), fc.uint8Array({ maxLength: 80 }).map((b) => base64nopad.encode(b)), fc.string({ maxLength: 50 }));
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 7 }), fc.uint8Array({ maxLength: 64 }), (args, body) => {
        try {
          const s = hmac.parseStanza(args, body);
          expect([1, 2]).toContain(s.version);
        } catch (e) {
          expect(e).toBeInstanceOf(hmac.FormatError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('fido2prf identities: FormatError or an exact round trip', () => {
    const cborish = fc.oneof(bytes, fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 30 }), fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 })).map(([c, r, t]) => {
      try {
        return prf.encodeIdentity({ credentialId: c, rpId: r, transports: t });
      } catch {
        return c;
      }
    }));
    fc.assert(
      fc.property(cborish, (b) => {
        try {
          const id = prf.decodeIdentity(b);
          expect(prf.encodeIdentity(id)).toEqual(b);
        } catch (e) {
          expect(e).toBeInstanceOf(prf.FormatError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('authenticator data: Ctap2Error or fields within the input', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        try {
          const a = parseAuthData(b);
          expect(a.rpIdHash.length).toBe(32);
          if (a.attested) expect(a.attested.credentialId.length).toBeLessThanOrEqual(b.length);
        } catch (e) {
          expect(e).toBeInstanceOf(Ctap2Error);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('the virtual authenticator answers any request with a CTAP status, never an exception', async () => {
    const auth = new VirtualAuthenticator(new Fido2StateStore(freshFido2State()), { touch: 'deny' });
    const ctx = { signal: new AbortController().signal, setWaitingForTouch: () => undefined };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0x01, 0x02, 0x04, 0x06, 0x07, 0x0b, 0x44), fc.uint8Array({ maxLength: 200 }), async (cmd, body) => {
        const r = await auth.handle(new Uint8Array([cmd, ...body]), ctx);
        expect(r.length).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});
