/**
 * Recipient and identity strings: age1yubikey1…/age1tag1… recipients, AGE-PLUGIN-YUBIKEY-1…
 * stubs, plugin names, and the string forms validate reads (age1…, AGE-SECRET-KEY-1…, ssh keys).
 */
import fc from 'fast-check';
import { bech32 } from '@scure/base';
import { decodeRecipient } from '../../src/plugins/yubikey/recipient.ts';
import { decodeStub } from '../../src/plugins/yubikey/stub.ts';
import { YubiKeyError } from '../../src/plugins/yubikey/errors.ts';
import { PluginError, pluginNameOf } from '../../src/age/plugin/client.ts';
import { secretKeyToRecipient, toRecipient } from '../../src/repo/keyString.ts';
import { hostileText } from '../arbitraries.ts';
import { boundedError, registerTarget } from '../registry.ts';

const hrp = fc.constantFrom('age1yubikey', 'age1tag', 'age-plugin-yubikey-', 'age', 'age-secret-key-', 'age1fuzz', 'x', '');
const data = fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 70 }), fc.constantFrom(new Uint8Array(33).fill(2), new Uint8Array(9), new Uint8Array(32)));
const encoded = fc.tuple(hrp, data, fc.constantFrom('lower', 'upper', 'mixed'), fc.array(fc.tuple(fc.nat(), fc.constantFrom('q', 'p', 'z', '1', 'B', '!')), { maxLength: 2 })).map(([h, d, c, edits]) => {
  let s: string;
  try {
    s = h ? bech32.encode(h, bech32.toWords(d), false) : Buffer.from(d).toString('hex');
  } catch {
    s = `${h}1${Buffer.from(d).toString('hex')}`;
  }
  for (const [at, ch] of edits) s = s.slice(0, at % (s.length + 1)) + ch + s.slice((at % (s.length + 1)) + 1);
  return c === 'upper' ? s.toUpperCase() : c === 'mixed' ? s.replace(/[a-f]/g, (x) => x.toUpperCase()) : s;
});

registerTarget({
  name: 'age-strings',
  description: 'decodeRecipient, decodeStub, pluginNameOf, toRecipient, secretKeyToRecipient on Bech32 strings with wrong HRPs, lengths, case and checksums',
  input: fc.oneof({ weight: 5, arbitrary: encoded }, { weight: 1, arbitrary: hostileText }),
  async run(s) {
    for (const f of [() => decodeRecipient(s), () => decodeRecipient(s, { allowTag: true }), () => decodeStub(s), () => pluginNameOf(s)]) {
      try {
        f();
      } catch (e) {
        if (!boundedError(e, YubiKeyError, PluginError)) throw e;
      }
    }
    const r = toRecipient(s);
    if (r !== null && typeof r !== 'string') throw new Error('toRecipient returned a non-string');
    const k = await secretKeyToRecipient(s);
    if (k !== null && !k.startsWith('age1')) throw new Error('secretKeyToRecipient returned a non-recipient');
  },
  documented: () => false,
});
