/**
 * The agent forgets a FIDO2 key it remembers when the key goes away: over TCP (the virtual
 * authenticator) its held connection closing is the removal; a HID key (no USB here: the device
 * list is the boundary, injected) is missed from the plugged-in devices within a poll or two.
 * A key forgotten for another reason (lock) is no longer watched.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceCache } from '../../src/agent/deviceCache.ts';
import { Fido2Presence } from '../../src/agent/fido2.ts';
import { agentNative, nativeUnavailableReason } from '../../src/agent/native.ts';
import { fido2DeviceSource, type Fido2DeviceSource } from '../../src/transport/fido2Devices.ts';
import type { HidDeviceInfo } from '../../src/transport/hid/connection.ts';
import { startVirtualFido2, type VirtualFido2 } from '../../src/sim/fido2/server.ts';

const reason = nativeUnavailableReason();

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.skipIf(!!reason)(`FIDO2 keys remembered by the agent${reason ? ` [skipped: ${reason}]` : ''}`, () => {
  const sims: VirtualFido2[] = [];
  afterEach(async () => {
    for (const v of sims.splice(0)) await v.stop();
  });
  const setup = () => {
    const cache = new DeviceCache({ idleMs: 60_000, maxLifetimeMs: 600_000 }, agentNative());
    const forgotten: [string, string][] = [];
    cache.onForget((d, why) => forgotten.push([d.id, why]));
    return { cache, forgotten };
  };

  it('over TCP: the key stopping (its connections dropped) makes the agent forget it', async () => {
    const v = await startVirtualFido2({ port: 0 });
    sims.push(v);
    const { cache, forgotten } = setup();
    const log: string[] = [];
    const presence = new Fido2Presence(fido2DeviceSource({ KEYBRIDGE_FIDO2_TCP: v.endpoint! }), (l) => log.push(l));
    const id = `fido2-hmac:tcp:${v.endpoint}`;
    cache.use(id);
    presence.watch(cache, id, `tcp:${v.endpoint}`);
    await new Promise((r) => setTimeout(r, 300));
    expect(forgotten).toEqual([]);
    await v.stop();
    await waitFor(() => forgotten.length > 0);
    expect(forgotten).toEqual([[id, 'removed']]);
    expect(cache.has(id)).toBe(false);
    expect(log).toEqual([`FIDO2 key tcp:${v.endpoint} went away`]);
  });

  it('over HID: a key missing from the plugged-in devices is forgotten; one forgotten by lock is no longer watched', async () => {
    let plugged: HidDeviceInfo[] = [{ path: '/dev/hidraw7', open: () => Promise.reject(new Error('not opened')) }, { path: '/dev/hidraw8', open: () => Promise.reject(new Error('not opened')) }];
    let lists = 0;
    const source: Fido2DeviceSource = {
      async list() {
        lists++;
        return plugged;
      },
    };
    const { cache, forgotten } = setup();
    const presence = new Fido2Presence(source, () => undefined);
    for (const n of [7, 8]) {
      cache.use(`fido2-hmac:/dev/hidraw${n}`);
      presence.watch(cache, `fido2-hmac:/dev/hidraw${n}`, `/dev/hidraw${n}`);
    }
    await waitFor(() => lists >= 2);
    expect(forgotten).toEqual([]);
    cache.forget('fido2-hmac:/dev/hidraw8', 'lock');
    plugged = [];
    await waitFor(() => forgotten.length > 1, 5000);
    expect(forgotten).toEqual([
      ['fido2-hmac:/dev/hidraw8', 'lock'],
      ['fido2-hmac:/dev/hidraw7', 'removed'],
    ]);
    const before = lists;
    await new Promise((r) => setTimeout(r, 1500));
    // nothing is watched any more: no polling
    expect(lists).toBe(before);
  });
});
