/**
 * CTAPHID over the report seam: framing, INIT, PING with fragmentation, KEEPALIVE, CANCEL,
 * CHANNEL_BUSY retried, timeouts and a device that disappears mid-call — against the virtual
 * authenticator in-process and over TCP; node-hid enumeration and the report-id rule with an
 * injected HID module (no HID device can exist on the test machine).
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { CtapHidDevice, CtapHidError } from '../../src/transport/ctaphid.ts';
import { CTAPHID, MAX_MESSAGE, Reassembly, fragment, parsePacket } from '../../src/transport/ctaphidFrame.ts';
import { HidTransportError, type HidDeviceInfo } from '../../src/transport/hid/connection.ts';
import { memoryDevice } from '../../src/transport/hid/memory.ts';
import { FIDO_USAGE_PAGE, fidoHidDevices, type NodeHidModule } from '../../src/transport/hid/nodeHid.ts';
import { parseHostPort, tcpDevice } from '../../src/transport/hid/tcp.ts';
import { fido2DeviceSource } from '../../src/transport/fido2Devices.ts';
import { startVirtualFido2, type VirtualFido2 } from '../../src/sim/fido2/server.ts';
import { decodeCbor, encodeCbor } from '../../src/transport/cbor.ts';

const started: VirtualFido2[] = [];
const opened: CtapHidDevice[] = [];
afterEach(async () => {
  for (const d of opened.splice(0)) await d.close();
  for (const v of started.splice(0)) await v.stop();
});

async function sim(opts: Parameters<typeof startVirtualFido2>[0] = {}): Promise<VirtualFido2> {
  const v = await startVirtualFido2(opts);
  started.push(v);
  return v;
}

async function open(info: HidDeviceInfo): Promise<CtapHidDevice> {
  const d = await CtapHidDevice.open(info);
  opened.push(d);
  return d;
}

/** A makeCredential that waits for a touch (no PIN set, ES256, rk false). */
function makeCredentialRequest(): Uint8Array {
  return encodeCbor(
    new Map<number, unknown>([
      [1, new Uint8Array(32)],
      [2, new Map([['id', 'example.org']])],
      [3, new Map<string, unknown>([['id', new Uint8Array([1])], ['name', 'u']])],
      [4, [new Map<string, unknown>([['alg', -7], ['type', 'public-key']])]],
    ]),
  );
}

describe('CTAPHID framing', () => {
  it('fragments and reassembles messages up to the maximum, with sequence numbers', () => {
    for (const n of [0, 1, 57, 58, 116, 117, 1000, MAX_MESSAGE]) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);
      const packets = fragment(0x01020304, CTAPHID.PING, data);
      expect(packets.every((p) => p.length === 64)).toBe(true);
      const first = parsePacket(packets[0]!);
      if (first.kind !== 'init') throw new Error('init expected');
      expect(first.cmd).toBe(CTAPHID.PING);
      const r = new Reassembly(first);
      packets.slice(1).forEach((p, i) => {
        const c = parsePacket(p);
        expect(c.kind === 'cont' && c.seq).toBe(i);
        r.add(c as never);
      });
      expect(r.complete).toBe(true);
      expect(r.message).toEqual(data);
    }
    expect(() => fragment(1, CTAPHID.PING, new Uint8Array(MAX_MESSAGE + 1))).toThrow(RangeError);
  });

  it('refuses a continuation packet out of sequence', () => {
    const packets = fragment(7, CTAPHID.PING, new Uint8Array(200));
    const r = new Reassembly(parsePacket(packets[0]!) as never);
    expect(() => r.add(parsePacket(packets[2]!) as never)).toThrow(/expected 0/);
  });
});

describe('CtapHidDevice against the virtual authenticator', () => {
  it('INIT allocates a channel; PING echoes a fragmented message in-process and over TCP', async () => {
    const v = await sim({ port: 0 });
    for (const info of [v.device(), tcpDevice('127.0.0.1', v.port!)]) {
      const d = await open(info);
      expect(d.channel.cid).not.toBe(0xffffffff);
      expect(d.supportsCbor).toBe(true);
      const data = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
      expect(await d.ping(data)).toEqual(data);
    }
  });

  it('two hosts get different channels on one device', async () => {
    const v = await sim({ port: 0 });
    const a = await open(v.device());
    const b = await open(tcpDevice('127.0.0.1', v.port!));
    expect(a.channel.cid).not.toBe(b.channel.cid);
    const [pa, pb] = await Promise.all([a.ping(new Uint8Array([1, 2])), b.ping(new Uint8Array([3]))]);
    expect(pa).toEqual(new Uint8Array([1, 2]));
    expect(pb).toEqual(new Uint8Array([3]));
  });

  it('a touch wait sends KEEPALIVE: the user-presence callback fires exactly once', async () => {
    const v = await sim({ touch: { approveAfterMs: 600 } });
    const d = await open(v.device());
    let calls = 0;
    const r = await d.cbor(0x01, makeCredentialRequest(), { onUserPresenceNeeded: () => calls++ });
    expect(r[0]).toBe(0);
    expect(calls).toBe(1);
    const m = decodeCbor(r.subarray(1)) as Map<number, unknown>;
    expect(m.get(1)).toBe('packed');
  });

  it('abort sends CANCEL; the device answers KEEPALIVE_CANCEL (0x2D) and records the cancel', async () => {
    const v = await sim({ touch: { timeoutMs: 20_000 } });
    const d = await open(v.device());
    const ac = new AbortController();
    const cancelled = v.waitFor((e) => e.type === 'touch' && e.result === 'cancelled', 5000);
    const r = d.cbor(0x01, makeCredentialRequest(), { onUserPresenceNeeded: () => ac.abort(), signal: ac.signal });
    expect((await r)[0]).toBe(0x2d);
    await cancelled;
  });

  it('another channel gets CHANNEL_BUSY while a request runs; the client retries until it is free', async () => {
    const v = await sim({ port: 0, touch: { approveAfterMs: 700 } });
    const a = await open(v.device());
    const b = await open(tcpDevice('127.0.0.1', v.port!));
    let busySeen = false;
    const touching = new Promise<void>((resolve) => {
      void a.cbor(0x01, makeCredentialRequest(), { onUserPresenceNeeded: resolve });
    });
    await touching;
    const t0 = Date.now();
    const echo = await b.ping(new Uint8Array([9]));
    busySeen = Date.now() - t0 >= 300;
    expect(echo).toEqual(new Uint8Array([9]));
    expect(busySeen).toBe(true);
  });

  it('gives up on CHANNEL_BUSY after a bounded time (the call\'s or the device\'s limit)', async () => {
    const v = await sim({ port: 0, touch: { timeoutMs: 10_000 } });
    const a = await open(v.device());
    const b = await open(tcpDevice('127.0.0.1', v.port!));
    const c = await CtapHidDevice.open(tcpDevice('127.0.0.1', v.port!), { busyLimitMs: 500 });
    await new Promise<void>((resolve) => void a.cbor(0x01, makeCredentialRequest(), { onUserPresenceNeeded: resolve }).catch(() => undefined));
    const t0 = Date.now();
    await expect(b.ping(new Uint8Array([1]), { busyLimitMs: 1000 })).rejects.toMatchObject({ code: 'BUSY', hidError: 0x06 });
    await expect(c.ping(new Uint8Array([1]))).rejects.toMatchObject({ code: 'BUSY', hidError: 0x06 });
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it('a device busy with a dead program\'s touch is waited for until it gives up', async () => {
    const v = await sim({ port: 0, touch: { timeoutMs: 4000 } });
    const a = await open(tcpDevice('127.0.0.1', v.port!));
    await new Promise<void>((resolve) => void a.cbor(0x01, makeCredentialRequest(), { onUserPresenceNeeded: resolve }).catch(() => undefined));
    await a.close(); // the program is gone; the device still waits for the touch
    const t0 = Date.now();
    const b = await open(tcpDevice('127.0.0.1', v.port!));
    // answered CHANNEL_BUSY for longer than a call's idle and total timeouts, which start when the device takes it
    expect(await b.ping(new Uint8Array([7]), { idleTimeoutMs: 300, totalTimeoutMs: 600 })).toEqual(new Uint8Array([7]));
    expect(Date.now() - t0).toBeGreaterThan(1000);
    await b.close();
  });

  it('a device unplugged mid-call is DEVICE_GONE, in-process and over TCP', async () => {
    const v = await sim({ port: 0, touch: { timeoutMs: 20_000 } });
    for (const info of [v.device(), tcpDevice('127.0.0.1', v.port!)]) {
      v.plugIn();
      const d = await open(info);
      const call = d.cbor(0x01, makeCredentialRequest(), { onUserPresenceNeeded: () => v.unplug() });
      await expect(call).rejects.toMatchObject({ name: 'CtapHidError', code: 'DEVICE_GONE' });
    }
  });

  it('a silent device is a TIMEOUT; an unknown command is a CTAPHID error', async () => {
    const silent: HidDeviceInfo = memoryDevice({ attach: () => ({ receive: () => undefined, detach: () => undefined }) }, 'memory:silent');
    await expect(CtapHidDevice.open(silent, { idleTimeoutMs: 200 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    const v = await sim();
    const d = await open(v.device());
    await expect(d.call(0x3e, new Uint8Array(0))).rejects.toMatchObject({ code: 'HID_ERROR', hidError: 0x01 });
  });

  it('no endpoint at the TCP address is OPEN_FAILED with the address', async () => {
    const v = await sim({ port: 0 });
    const port = v.port!;
    await v.stop();
    started.length = 0;
    await expect(CtapHidDevice.open(tcpDevice('127.0.0.1', port))).rejects.toMatchObject({ code: 'OPEN_FAILED', message: expect.stringContaining(`127.0.0.1:${port}`) });
  });
});

describe('device sources', () => {
  it('KEYBRIDGE_FIDO2_TCP makes one TCP endpoint the only authenticator', async () => {
    let loaded = false;
    const src = fido2DeviceSource({ KEYBRIDGE_FIDO2_TCP: '127.0.0.1:35962' }, async () => {
      loaded = true;
      throw new Error('node-hid must not be loaded');
    });
    const list = await src.list();
    expect(list.map((d) => d.path)).toEqual(['tcp:127.0.0.1:35962']);
    expect(loaded).toBe(false);
    expect(parseHostPort('[::1]:9')).toEqual({ host: '::1', port: 9 });
    expect(() => parseHostPort('localhost')).toThrow(/HOST:PORT/);
    expect(() => parseHostPort('h:70000')).toThrow(/HOST:PORT/);
  });
});

class FakeHandle extends EventEmitter {
  written: Buffer[] = [];
  closed = false;
  constructor(private readonly onWrite: (h: FakeHandle, data: Buffer) => void) {
    super();
  }
  write(values: number[] | Buffer): number {
    const b = Buffer.from(values as Buffer);
    this.written.push(b);
    this.onWrite(this, b);
    return b.length;
  }
  close(): void {
    this.closed = true;
  }
}

describe('node-hid backend (injected HID module)', () => {
  const devs = [
    { vendorId: 0x1050, productId: 0x0407, path: '/dev/hidraw1', product: 'YubiKey OTP+FIDO+CCID', usagePage: FIDO_USAGE_PAGE, usage: 1, release: 0, interface: 1 },
    { vendorId: 0x1050, productId: 0x0407, path: '/dev/hidraw0', product: 'YubiKey OTP+FIDO+CCID', usagePage: 0x01, usage: 6, release: 0, interface: 0 },
    { vendorId: 0x2e8a, productId: 0x10fe, path: '/dev/hidraw2', product: 'Pico Key', usagePage: FIDO_USAGE_PAGE, usage: 1, release: 0, interface: 0 },
    { vendorId: 0x2e8a, productId: 0x10fe, path: '/dev/hidraw2', product: 'Pico Key', usagePage: FIDO_USAGE_PAGE, usage: 1, release: 0, interface: 0 },
    { vendorId: 0x1234, productId: 0x0001, path: '/dev/hidraw3', usagePage: FIDO_USAGE_PAGE, usage: 2, release: 0, interface: 0 },
  ];

  it('lists only FIDO interfaces (usage page 0xF1D0, usage 1), once per path', () => {
    const hid: NodeHidModule = { devices: () => devs, HID: class {} as never };
    const list = fidoHidDevices(hid);
    expect(list.map((d) => [d.path, d.product, d.vendorId])).toEqual([
      ['/dev/hidraw1', 'YubiKey OTP+FIDO+CCID', 0x1050],
      ['/dev/hidraw2', 'Pico Key', 0x2e8a],
    ]);
  });

  it('writes a report-id byte 0x00 before each 64-byte report; reads come without it', async () => {
    // A device that answers INIT like an authenticator (nonce ‖ cid 0x11223344 ‖ caps).
    const handles: FakeHandle[] = [];
    const hid: NodeHidModule = {
      devices: () => devs,
      HID: class {
        constructor(path: string) {
          expect(path).toBe('/dev/hidraw2');
          const h = new FakeHandle((self, data) => {
            const report = data.subarray(1);
            const p = parsePacket(new Uint8Array(report));
            if (p.kind === 'init' && p.cmd === CTAPHID.INIT) {
              const r = new Uint8Array(17);
              r.set(p.data.subarray(0, 8));
              r.set([0x11, 0x22, 0x33, 0x44, 2, 1, 0, 0, 0x04], 8);
              setImmediate(() => self.emit('data', Buffer.from(fragment(0xffffffff, CTAPHID.INIT, r)[0]!)));
            } else if (p.kind === 'init' && p.cmd === CTAPHID.PING) {
              setImmediate(() => self.emit('data', Buffer.from(fragment(p.cid, CTAPHID.PING, p.data.subarray(0, p.length))[0]!)));
            }
          });
          handles.push(h);
          return h as never;
        }
      } as never,
    };
    const info = fidoHidDevices(hid).find((d) => d.path === '/dev/hidraw2')!;
    const d = await CtapHidDevice.open(info);
    expect(d.channel.cid).toBe(0x11223344);
    expect(await d.ping(new Uint8Array([5, 6]))).toEqual(new Uint8Array([5, 6]));
    const w = handles[0]!.written;
    expect(w.length).toBe(2);
    for (const b of w) {
      expect(b.length).toBe(65);
      expect(b[0]).toBe(0);
    }
    expect(b2h(w[0]!.subarray(1, 6))).toBe('ffffffff86');
    expect(b2h(w[1]!.subarray(1, 6))).toBe('1122334481');
    handles[0]!.emit('error', new Error('could not read from HID device'));
    await expect(d.ping(new Uint8Array([1]))).rejects.toMatchObject({ code: 'DEVICE_GONE' });
    await d.close();
    expect(handles[0]!.closed).toBe(true);
  });

  it('a device node without permission gets an error that points to the udev rules', async () => {
    const hid: NodeHidModule = {
      devices: () => devs,
      HID: class {
        constructor() {
          throw new Error('cannot open device with path /dev/hidraw1');
        }
      } as never,
    };
    const eacces = (p: string) => {
      throw Object.assign(new Error(`EACCES: permission denied, access '${p}'`), { code: 'EACCES' });
    };
    const [info] = fidoHidDevices(hid, eacces);
    const err = await CtapHidDevice.open(info!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CtapHidError);
    expect(err).toMatchObject({ code: 'ACCESS_DENIED' });
    expect((err as Error).message).toMatch(/no permission to open \/dev\/hidraw1 \(YubiKey OTP\+FIDO\+CCID\).*keybridge udev install.*replug/);
    const [other] = fidoHidDevices(hid, () => undefined);
    await expect(CtapHidDevice.open(other!)).rejects.toMatchObject({ code: 'OPEN_FAILED' });
    expect(new HidTransportError('TIMEOUT', 'x').code).toBe('TIMEOUT');
  });
});

function b2h(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
