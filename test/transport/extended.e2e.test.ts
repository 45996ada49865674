/**
 * Extended-length APDUs through the real PC/SC stack (pcsclite → pcscd → vpcd → the virtual
 * YubiKey, which accepts both formats): the same 1,500-byte object written and read back with
 * short APDUs (command chaining, 61xx) and with extended ones, chosen per connection.
 */
import { expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import { describeWithRig } from '../helpers/rig.ts';
import { itWith } from '../helpers/tools.ts';
import { openPcsc } from '../../src/transport/pcsc.ts';
import { PivSession } from '../../src/tokens/piv/session.ts';
import { DEFAULT_MGMT_KEY, MgmtKeyAlgorithm, ObjectId } from '../../src/tokens/piv/constants.ts';

describeWithRig('extended APDUs through pcscd', (ctx) => {
  itWith([])('a 1,500-byte object in one extended APDU each way, or chained short APDUs', async () => {
    await ctx.yubikey({ serial: 4242, version: '5.7.1' });
    const readers = await openPcsc();
    try {
      const [name] = await readers.list();
      const counts: Record<string, { put: number; get: number }> = {};
      for (const format of ['short', 'extended'] as const) {
        const t = await readers.connect(name!);
        try {
          const piv = new PivSession(t);
          piv.protocol.setFormat(format);
          await piv.select();
          await piv.authenticate(DEFAULT_MGMT_KEY, MgmtKeyAlgorithm.Aes192);
          const value = new Uint8Array(randomBytes(1500));
          let n = piv.protocol.apduCount;
          await piv.putObject(ObjectId.CCC, value);
          const put = piv.protocol.apduCount - n;
          n = piv.protocol.apduCount;
          expect(await piv.getObject(ObjectId.CCC)).toEqual(value);
          counts[format] = { put, get: piv.protocol.apduCount - n };
        } finally {
          await t.close(false);
        }
      }
      expect(counts.extended).toEqual({ put: 1, get: 1 });
      expect(counts.short!.put).toBeGreaterThanOrEqual(6);
      expect(counts.short!.get).toBeGreaterThanOrEqual(6);
    } finally {
      await readers.close();
    }
  });
});
