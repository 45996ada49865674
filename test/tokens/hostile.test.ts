/**
 * What the fuzz targets for hostile devices found (fuzz/targets/schsmSession.ts,
 * ctap2Session.ts), pinned down: a SmartCard-HSM that answers without a status word or chains
 * 61xx for ever fails as ScHsmError CARD, not as a TransportError, and one pulled out mid-command
 * (a failed transaction, then a failed probe) as CARD_REMOVED; a FIDO2 key whose CBOR answer
 * holds a value of the wrong type, or names a credential it was not asked for, fails as Ctap2Error
 * DEVICE, not as a TypeError or a foreign credential id.
 */
import { describe, expect, it } from 'vitest';
import { ScHsmSession } from '../../src/tokens/schsm/session.ts';
import { Ctap2Session } from '../../src/tokens/ctap2/session.ts';
import { CtapHidDevice } from '../../src/transport/ctaphid.ts';
import { TransportError } from '../../src/transport/apdu.ts';
import type { ApduTransport } from '../../src/transport/types.ts';
import { HostileAuthenticator, WELL_FORMED, type Answer } from '../../fuzz/targets/ctap2Session.ts';

function card(answer: () => Uint8Array): ApduTransport & { sent: number } {
  return {
    sent: 0,
    async transmit() {
      this.sent++;
      return answer();
    },
    async close() {},
  };
}

describe('a hostile SmartCard-HSM', () => {
  it('an answer shorter than a status word is a CARD error', async () => {
    const s = new ScHsmSession(card(() => Uint8Array.of(0x90)));
    await expect(s.select()).rejects.toMatchObject({ name: 'ScHsmError', code: 'CARD', message: 'The card sent a response shorter than a status word' });
    await expect(s.pinStatus()).rejects.toMatchObject({ name: 'ScHsmError', code: 'CARD' });
  });

  it('a failed transaction followed by a failed probe is the device pulled out; a working probe keeps the reader error', async () => {
    const fail = () => {
      throw new TransportError('PCSC', 'transmit on Reader 0 failed: SCardTransmit error: Transaction failed.(0x80100016)');
    };
    await expect(new ScHsmSession(card(fail)).ecdh(1, new Uint8Array(32))).rejects.toMatchObject({ name: 'ScHsmError', code: 'CARD_REMOVED' });
    let n = 0;
    const once = card(() => (n++ === 0 ? fail() : Uint8Array.of(0x63, 0xc3)));
    await expect(new ScHsmSession(once).ecdh(1, new Uint8Array(32))).rejects.toMatchObject({ name: 'TransportError', code: 'PCSC' });
    expect(once.sent).toBe(2);
  });

  it('61xx chaining without end stops at the bound as a CARD error', async () => {
    const t = card(() => Uint8Array.from([...new Uint8Array(255).fill(0xaa), 0x61, 0xff]));
    await expect(new ScHsmSession(t).readFile(0xcd01)).rejects.toMatchObject({ name: 'ScHsmError', code: 'CARD', message: expect.stringMatching(/keeps sending more response data/) });
    expect(t.sent).toBeLessThan(1100);
  });
});

async function open(answers: Partial<Answer>[]): Promise<Ctap2Session> {
  const device = new HostileAuthenticator(
    answers.map((a) => ({ ...WELL_FORMED, ...a })),
    'silent',
  );
  return Ctap2Session.open(await CtapHidDevice.open({ path: 'test:hostile', open: async () => device }));
}

describe('a hostile FIDO2 authenticator', () => {
  it('a wrong-typed value in a makeCredential answer is a DEVICE error', async () => {
    const s = await open([{}, {}, { edits: [{ key: 1, value: 0 }] }]);
    await expect(s.makeCredential({ rpId: 'age-encryption.org', userId: new Uint8Array(32), hmacSecret: true })).rejects.toMatchObject({
      name: 'Ctap2Error',
      kind: 'DEVICE',
      message: 'creating the credential: the security key sent a malformed answer (CBOR key 1 is not a text string)',
    });
  });

  it('wrong-typed values in clientPIN and getAssertion answers are DEVICE errors', async () => {
    const s = await open([{}, {}, { edits: [{ key: 3, value: 'eight' }] }, { edits: [{ key: 1, inner: 'id', value: 5 }] }]);
    await expect(s.getPinRetries()).rejects.toMatchObject({ name: 'Ctap2Error', kind: 'DEVICE', message: expect.stringContaining('CBOR key 3 is not an integer') });
    await expect(s.getAssertion({ rpId: 'age-encryption.org', allowList: [new Uint8Array(64).fill(0xc1)], userPresence: false })).rejects.toMatchObject({
      name: 'Ctap2Error',
      kind: 'DEVICE',
      message: expect.stringContaining('CBOR key id is not a byte string'),
    });
  });

  it('an assertion naming a credential that was not in the allow list is a DEVICE error', async () => {
    const s = await open([{}, {}, { edits: [{ key: 1, inner: 'id', value: new Uint8Array(64).fill(0x40) }] }]);
    await expect(s.probe('age-encryption.org', [new Uint8Array(64).fill(0xc1)])).rejects.toMatchObject({
      name: 'Ctap2Error',
      kind: 'DEVICE',
      message: 'the security key answered with a credential that was not asked for',
    });
  });

  it('well-formed answers still work through the same device', async () => {
    const s = await open([{}, {}, {}]);
    expect(s.supportsHmacSecret).toBe(true);
    expect((await s.getPinRetries()).retries).toBe(8);
  });
});
