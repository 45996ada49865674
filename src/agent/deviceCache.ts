/**
 * What the agent remembers per device (a token, keyed like `yubikey:12345678`): secrets such as
 * a PIN, kept in locked memory (mlock, MADV_DONTDUMP) and zeroed when dropped, and the readers
 * whose held card connection carries the device's verified state. A device is forgotten after an
 * idle timeout (no use) or its maximum lifetime (since first use), whichever comes first, and on
 * `forget`/`forgetAll` (lock, SIGHUP, card removal, a rejected PIN); listeners then release the
 * card connections (with a reset, so the card forgets the PIN too). Expiry waits while an operation
 * runs (`hold`): resetting a card under a running decryption would fail it, so a device whose time
 * is up is forgotten when the operation ends, and the next one starts afresh.
 */
import type { AgentNative } from './native.ts';
import type { DeviceStatus } from './protocol.ts';

export interface CacheLimits {
  /** Forget a device this long after its last use. */
  idleMs: number;
  /** Forget a device this long after its first use, however busy. */
  maxLifetimeMs: number;
}

export const DEFAULT_LIMITS: CacheLimits = { idleMs: 15 * 60_000, maxLifetimeMs: 2 * 3600_000 };

export type ForgetReason = 'lock' | 'sighup' | 'idle' | 'lifetime' | 'removed' | 'rejected' | 'stop';

/** One secret in its own locked buffer; `dispose` zeroes it at once (the pages are released when collected). */
export class LockedSecret {
  private buf: Uint8Array | null;
  constructor(
    private readonly native: Pick<AgentNative, 'lockedBuffer' | 'zero'>,
    bytes: Uint8Array,
  ) {
    if (bytes.length === 0) throw new RangeError('an empty secret');
    this.buf = new Uint8Array(native.lockedBuffer(bytes.length));
    this.buf.set(bytes);
  }
  get disposed(): boolean {
    return this.buf === null;
  }
  /** A view of the secret, valid until dispose; do not keep it. */
  view(): Uint8Array {
    if (!this.buf) throw new Error('the secret was dropped');
    return this.buf;
  }
  dispose(): void {
    if (!this.buf) return;
    this.native.zero(this.buf);
    this.buf = null;
  }
}

interface Device {
  id: string;
  since: number;
  lastUsed: number;
  secrets: Map<string, LockedSecret>;
  readers: Set<string>;
}

export type ForgetListener = (device: { id: string; readers: string[] }, reason: ForgetReason) => void;

export class DeviceCache {
  private readonly devices = new Map<string, Device>();
  private readonly listeners: ForgetListener[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = 0;

  constructor(
    readonly limits: CacheLimits,
    private readonly native: Pick<AgentNative, 'lockedBuffer' | 'zero'>,
    private readonly now: () => number = Date.now,
    /** Run expiry on a timer (off in unit tests that call sweep()). */
    private readonly autoSweep = true,
  ) {
    if (!(limits.idleMs > 0) || !(limits.maxLifetimeMs > 0)) throw new RangeError('cache limits must be positive');
  }

  onForget(fn: ForgetListener): void {
    this.listeners.push(fn);
  }

  private expiresAt(d: Device): number {
    return Math.min(d.lastUsed + this.limits.idleMs, d.since + this.limits.maxLifetimeMs);
  }

  /** Marks a device used now (creating it); an expired one is forgotten first and starts afresh. */
  use(id: string): void {
    this.sweep();
    const t = this.now();
    const d = this.devices.get(id);
    if (d) d.lastUsed = t;
    else this.devices.set(id, { id, since: t, lastUsed: t, secrets: new Map(), readers: new Set() });
    this.schedule();
  }

  has(id: string): boolean {
    this.sweep();
    return this.devices.has(id);
  }

  /** Copies `bytes` into locked memory under (device, name); the caller zeroes its own copy. */
  putSecret(id: string, name: string, bytes: Uint8Array): void {
    this.use(id);
    const d = this.devices.get(id)!;
    d.secrets.get(name)?.dispose();
    d.secrets.set(name, new LockedSecret(this.native, bytes));
  }

  /** Lends a secret to `fn` (marking the device used); undefined when there is none. */
  withSecret<T>(id: string, name: string, fn: (bytes: Uint8Array) => T): T | undefined {
    this.sweep();
    const s = this.devices.get(id)?.secrets.get(name);
    if (!s) return undefined;
    this.use(id);
    return fn(s.view());
  }

  dropSecret(id: string, name: string): void {
    const d = this.devices.get(id);
    d?.secrets.get(name)?.dispose();
    d?.secrets.delete(name);
  }

  /** Records that the device's state lives in the held connection to `reader`. */
  linkReader(id: string, reader: string): void {
    this.devices.get(id)?.readers.add(reader);
  }

  /** Devices whose state lives on `reader`. */
  devicesOn(reader: string): string[] {
    return [...this.devices.values()].filter((d) => d.readers.has(reader)).map((d) => d.id);
  }

  forget(id: string, reason: ForgetReason): void {
    const d = this.devices.get(id);
    if (!d) return;
    this.devices.delete(id);
    for (const s of d.secrets.values()) s.dispose();
    d.secrets.clear();
    for (const l of this.listeners) l({ id, readers: [...d.readers] }, reason);
    this.schedule();
  }

  forgetAll(reason: ForgetReason): void {
    for (const id of [...this.devices.keys()]) this.forget(id, reason);
  }

  /**
   * Marks an operation running until the returned function is called: until then no device
   * expires (forget, lock and removal still act at once); afterwards what is due is forgotten.
   */
  hold(): () => void {
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.sweep();
      this.schedule();
    };
  }

  /** Forgets every device past its idle timeout or lifetime (none while an operation runs). */
  sweep(): void {
    if (this.running > 0) return;
    const t = this.now();
    for (const d of [...this.devices.values()]) {
      if (t >= d.since + this.limits.maxLifetimeMs) this.forget(d.id, 'lifetime');
      else if (t >= d.lastUsed + this.limits.idleMs) this.forget(d.id, 'idle');
    }
  }

  status(): DeviceStatus[] {
    this.sweep();
    return [...this.devices.values()].map((d) => ({
      id: d.id,
      since: d.since,
      lastUsed: d.lastUsed,
      expiresAt: this.expiresAt(d),
      secrets: d.secrets.size,
      readers: [...d.readers],
    }));
  }

  get size(): number {
    return this.devices.size;
  }

  private schedule(): void {
    if (!this.autoSweep) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running > 0) return; // re-armed when the operation ends
    let next = Infinity;
    for (const d of this.devices.values()) next = Math.min(next, this.expiresAt(d));
    if (next === Infinity) return;
    // setTimeout holds at most ~24.8 days; lifetimes are far shorter, but clamp anyway.
    const delay = Math.min(Math.max(0, next - this.now()) + 5, 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sweep();
      this.schedule();
    }, delay);
    this.timer.unref();
  }

  /** Forgets everything and stops the timer. */
  close(reason: ForgetReason = 'stop'): void {
    this.forgetAll(reason);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
