/**
 * A small fake token family for the kit's engines: in-memory devices with a PIN counter, a touch
 * that can time out, and a toy stanza (`fake <device> <key> <b64 body>`, body = file key XOR key
 * byte). Only the engines are under test here; the YubiKey family runs against the real stack
 * in its e2e tests.
 */
import { base64nopad } from '@scure/base';
import type { Stanza } from '../../../src/age/stanza.ts';
import { PinBlocked, PinInvalid, TouchTimeout } from '../../../src/tokens/errors.ts';
import { MALFORMED, type DeviceAccess, type KitTexts, type OpenDevice, type TokenFamily } from '../../../src/plugins/kit/family.ts';

export interface FakeToken {
  present: boolean;
  pin: string;
  retries: number;
  verified: boolean;
  /** 'once': a verified PIN carries over; 'always': every operation asks. */
  pinPolicy: 'once' | 'always' | 'never';
  touch: 'ok' | 'timeout';
  opens: number;
  operations: number;
}

export interface FakeIdentity {
  device: number;
  key: number;
}

export type FakeStanza = FakeIdentity & { body: Uint8Array };

export const TEXTS: KitTexts = {
  invalidRecipient: 'Invalid fake recipient',
  invalidIdentity: 'Invalid fake identity',
  invalidStanza: 'Invalid fake stanza',
  decryptFailed: 'Failed to decrypt fake stanza',
  insertConfirm: (d) => `Please insert fake token ${d}`,
  insertRetry: (d) => `Could not open it. Please insert fake token ${d}`,
  insertYes: 'It is plugged in',
  insertNo: 'Skip it',
  insertTimeout: (d) => `Timed out waiting for fake token ${d}`,
  openFailed: (d) => `Could not open fake token ${d}`,
  noTerminal: (d) => `Fake token ${d} is not plugged in and there is no terminal`,
  skipped: (d) => `Skipping fake token ${d}`,
  pinPrompt: (d) => `Enter PIN for fake token ${d}`,
  pinRequired: (d) => `A PIN is required for fake token ${d}`,
  pinInvalid: (n) => `Invalid PIN (${n} tries remaining before it is blocked)`,
  pinLastRetry: (d) => `Only 1 PIN try is left on fake token ${d}`,
  pinBlocked: (d) => `The PIN of fake token ${d} is blocked`,
  touch: (d) => `Touch fake token ${d}`,
  touchTimeout: (d) => `Fake token ${d} was not touched in time`,
  removed: (d) => `Fake token ${d} was removed`,
  readerBusy: (r) => `${r} is busy`,
  unavailable: 'No reader service',
};

export function token(over: Partial<FakeToken> = {}): FakeToken {
  return { present: true, pin: '123456', retries: 3, verified: false, pinPolicy: 'once', touch: 'ok', opens: 0, operations: 0, ...over };
}

export function fakeStanza(device: number, key: number, fileKey: Uint8Array): Stanza {
  return { type: 'fake', args: [String(device), String(key)], body: fileKey.map((b) => b ^ key) };
}

export const identityBytes = (device: number, key: number) => Uint8Array.of(device, key);

type Device = OpenDevice & { id: number; t: FakeToken };

export function fakeFamily(tokens: Map<number, FakeToken>): TokenFamily<FakeIdentity, FakeStanza, FakeIdentity, Device> & { released: number } {
  const family = {
    name: 'fake',
    texts: TEXTS,
    skipNotFoundEnv: 'FAKE_SKIP',
    released: 0,
    parseRecipient(data: Uint8Array) {
      if (data.length !== 2) throw new Error('bad');
      return { device: data[0]!, key: data[1]! };
    },
    parseIdentity(data: Uint8Array) {
      if (data.length !== 2) throw new Error('bad');
      return { device: data[0]!, key: data[1]! };
    },
    wrap: (fileKey: Uint8Array, r: FakeIdentity) => [fakeStanza(r.device, r.key, fileKey)],
    async recipientOf(id: FakeIdentity, devices: DeviceAccess<Device>) {
      const d = await devices.open({ key: String(id.device), label: String(id.device) });
      if (!d) throw new Error(TEXTS.openFailed(String(id.device)));
      await d.close();
      return id;
    },
    parseStanza(s: Stanza) {
      if (s.type !== 'fake') return null;
      if (s.args.length !== 2 || s.body.length !== 16) return MALFORMED;
      return { device: Number(s.args[0]), key: Number(s.args[1]), body: s.body };
    },
    matches: (id: FakeIdentity, s: FakeStanza) => id.device === s.device && id.key === s.key,
    deviceOf: (id: FakeIdentity) => ({ key: String(id.device), label: String(id.device) }),
    devices(): DeviceAccess<Device> {
      return {
        async open(ref) {
          const t = tokens.get(Number(ref.key));
          if (!t?.present) return null;
          t.opens++;
          return {
            id: Number(ref.key),
            t,
            close: async () => undefined,
            get operations() {
              return t.operations;
            },
          };
        },
        release: async () => void family.released++,
      };
    },
    async unwrap(d: Device, id: FakeIdentity, stanzas: FakeStanza[], ctx: Parameters<TokenFamily<FakeIdentity, FakeStanza, FakeIdentity, Device>['unwrap']>[3]) {
      const t = d.t;
      if (t.pinPolicy !== 'never') {
        await ctx.verifyPin(
          {
            status: async () => ({ verified: t.verified, retriesLeft: t.retries }),
            async verify(pin) {
              t.operations++;
              if (t.retries === 0) throw new PinBlocked();
              if (pin !== t.pin) {
                t.retries--;
                if (t.retries === 0) throw new PinBlocked();
                throw new PinInvalid(t.retries);
              }
              t.retries = 3;
              t.verified = true;
            },
            check: (pin) => (pin.length < 6 ? 'PIN was too short.' : null),
          },
          { once: t.pinPolicy === 'once' },
        );
      }
      const out: Array<Uint8Array | null> = [];
      for (const s of stanzas) {
        await ctx.touch();
        t.operations++;
        if (t.touch === 'timeout') throw new TouchTimeout(TEXTS.touchTimeout(ctx.device.label));
        out.push(s.key === id.key ? s.body.map((b) => b ^ s.key) : null);
      }
      return out;
    },
  };
  return family;
}
