/**
 * The agent's per-device memory: idle timeout and maximum lifetime, each forgetting the device
 * (secrets zeroed in their locked buffers, listeners told which readers held it).
 */
import { describe, expect, it } from 'vitest';
import { DeviceCache } from '../../src/agent/deviceCache.ts';
import { agentNative, nativeUnavailableReason } from '../../src/agent/native.ts';

const reason = nativeUnavailableReason();

describe.skipIf(!!reason)('DeviceCache', () => {
  function setup(idleMs = 1000, maxLifetimeMs = 5000) {
    let t = 1_000_000;
    const cache = new DeviceCache({ idleMs, maxLifetimeMs }, agentNative(), () => t, false);
    const forgotten: [string, string, string[]][] = [];
    cache.onForget((d, why) => forgotten.push([d.id, why, d.readers]));
    return { cache, forgotten, advance: (ms: number) => (t += ms) };
  }

  it('lends a secret from locked memory and zeroes it when the device is forgotten', () => {
    const { cache, forgotten } = setup();
    const pin = new TextEncoder().encode('471129');
    cache.putSecret('yubikey:1', 'pin', pin);
    let lent: Uint8Array | undefined;
    expect(cache.withSecret('yubikey:1', 'pin', (b) => new TextDecoder().decode((lent = b)))).toBe('471129');
    expect(cache.withSecret('yubikey:1', 'other', () => 1)).toBeUndefined();
    cache.linkReader('yubikey:1', 'Reader 00 00');
    expect(cache.devicesOn('Reader 00 00')).toEqual(['yubikey:1']);
    cache.forget('yubikey:1', 'lock');
    expect(lent!.every((b) => b === 0)).toBe(true);
    expect(forgotten).toEqual([['yubikey:1', 'lock', ['Reader 00 00']]]);
    expect(cache.withSecret('yubikey:1', 'pin', () => 1)).toBeUndefined();
  });

  it('idle timeout: each use pushes it back; silence forgets', () => {
    const { cache, forgotten, advance } = setup(1000, 5000);
    cache.putSecret('a', 'pin', new Uint8Array([1]));
    advance(900);
    cache.use('a');
    advance(900);
    expect(cache.has('a')).toBe(true);
    advance(99);
    expect(cache.has('a')).toBe(true);
    advance(1);
    expect(cache.has('a')).toBe(false);
    expect(forgotten.map((f) => f[1])).toEqual(['idle']);
  });

  it('maximum lifetime: forgotten however busy', () => {
    const { cache, forgotten, advance } = setup(1000, 3000);
    cache.use('a');
    for (let i = 0; i < 5; i++) {
      advance(600);
      cache.use('a');
    }
    expect(forgotten).toEqual([['a', 'lifetime', []]]);
    // the last use started a new device
    expect(cache.status()).toMatchObject([{ id: 'a', secrets: 0 }]);
  });

  it('expiry waits for a running operation; forget does not', () => {
    const { cache, forgotten, advance } = setup(1000, 3000);
    cache.putSecret('a', 'pin', new Uint8Array([1]));
    cache.use('b');
    const release = cache.hold();
    advance(5000);
    cache.use('a');
    expect(cache.withSecret('a', 'pin', (b) => b[0])).toBe(1);
    expect(cache.has('b')).toBe(true);
    cache.forget('b', 'removed');
    expect(forgotten).toEqual([['b', 'removed', []]]);
    release();
    release(); // a second call changes nothing
    expect(forgotten).toEqual([
      ['b', 'removed', []],
      ['a', 'lifetime', []],
    ]);
    expect(cache.has('a')).toBe(false);
  });

  it('forgetAll, status, and limits that make no sense', () => {
    const { cache, forgotten } = setup();
    cache.putSecret('a', 'pin', new Uint8Array([1]));
    cache.use('b');
    expect(cache.status().map((d) => [d.id, d.secrets])).toEqual([
      ['a', 1],
      ['b', 0],
    ]);
    cache.forgetAll('sighup');
    expect(forgotten.map((f) => f.slice(0, 2))).toEqual([
      ['a', 'sighup'],
      ['b', 'sighup'],
    ]);
    expect(cache.size).toBe(0);
    expect(() => new DeviceCache({ idleMs: 0, maxLifetimeMs: 1 }, agentNative())).toThrow(/positive/);
  });

  it('expires on its own timer', async () => {
    const cache = new DeviceCache({ idleMs: 150, maxLifetimeMs: 10_000 }, agentNative());
    const gone = new Promise<string>((r) => cache.onForget((d, why) => r(`${d.id} ${why}`)));
    cache.use('x');
    expect(await gone).toBe('x idle');
    cache.close();
  });
});
