/**
 * The device side of CTAPHID (CTAP 2.1 §11.2) for the virtual authenticator: channel allocation
 * (INIT on the broadcast channel, resynchronisation on an allocated one), message reassembly with
 * sequence checks and a transaction timeout, PING, WINK, CBOR with KEEPALIVE every 100 ms while
 * a request runs ("user presence needed" while it waits for a touch), CANCEL, and
 * CTAPHID_ERROR answers (CHANNEL_BUSY to other channels while one request runs). Reports go to
 * every attached host, as a HID device's input reports do; hosts filter by channel.
 */
import { randomBytes } from 'node:crypto';
import type { HidAttachment, HidEndpoint } from '../../transport/hid/memory.ts';
import { BROADCAST_CID, CAPABILITY, CTAPHID, HID_ERR, KEEPALIVE_STATUS, Reassembly, ReassemblyError, fragment, parsePacket } from '../../transport/ctaphidFrame.ts';
import type { VirtualAuthenticator } from './authenticator.ts';

const KEEPALIVE_MS = 100;
const TRANSACTION_TIMEOUT_MS = 3000;

interface Host {
  send(report: Uint8Array): void;
  gone(): void;
}

export class VirtualCtapHid implements HidEndpoint {
  private readonly hosts = new Set<Host>();
  private readonly channels = new Set<number>();
  private assembling?: { cid: number; reassembly: Reassembly; timer: NodeJS.Timeout };
  private busy?: { cid: number; abort: AbortController };
  private plugged = true;

  constructor(
    readonly authenticator: VirtualAuthenticator,
    private readonly version: readonly [number, number, number] = [1, 0, 0],
  ) {}

  attach(send: (report: Uint8Array) => void, gone: () => void): HidAttachment {
    const host: Host = { send, gone };
    if (!this.plugged) {
      setImmediate(gone);
      return { receive: () => undefined, detach: () => undefined };
    }
    this.hosts.add(host);
    return {
      receive: (report) => this.onReport(report),
      detach: () => {
        this.hosts.delete(host);
      },
    };
  }

  /** Pulls the device out: every host sees it go, a running request is abandoned. */
  unplug(): void {
    this.plugged = false;
    this.busy?.abort.abort();
    this.busy = undefined;
    this.clearAssembly();
    for (const h of this.hosts) h.gone();
    this.hosts.clear();
    this.channels.clear();
  }

  /** Plugs it back in (a power cycle for the authenticator). */
  plugIn(): void {
    if (this.plugged) return;
    this.plugged = true;
    this.authenticator.powerCycle();
  }

  get isPlugged(): boolean {
    return this.plugged;
  }

  private send(cid: number, cmd: number, data: Uint8Array): void {
    for (const p of fragment(cid, cmd, data)) for (const h of this.hosts) h.send(p);
  }

  private error(cid: number, code: number): void {
    this.send(cid, CTAPHID.ERROR, new Uint8Array([code]));
  }

  private clearAssembly(): void {
    if (this.assembling) clearTimeout(this.assembling.timer);
    this.assembling = undefined;
  }

  private allocate(): number {
    for (;;) {
      const cid = randomBytes(4).readUInt32BE(0);
      if (cid !== 0 && cid !== BROADCAST_CID && !this.channels.has(cid)) {
        this.channels.add(cid);
        return cid;
      }
    }
  }

  private onReport(report: Uint8Array): void {
    if (!this.plugged) return;
    const p = parsePacket(report);
    if (p.kind === 'cont') {
      const a = this.assembling;
      if (!a || a.cid !== p.cid) return; // spurious continuation: ignored (CTAP 2.1 §11.2.5.3)
      try {
        if (a.reassembly.add(p)) {
          this.clearAssembly();
          this.dispatch(p.cid, a.reassembly.init.cmd, a.reassembly.message);
        }
      } catch (err) {
        this.clearAssembly();
        this.error(p.cid, err instanceof ReassemblyError ? err.hidError : HID_ERR.OTHER);
      }
      return;
    }
    if (p.cmd === CTAPHID.INIT) {
      if (p.length !== 8) return this.error(p.cid, HID_ERR.INVALID_LEN);
      const nonce = p.data.slice(0, 8);
      let cid: number;
      if (p.cid === BROADCAST_CID) cid = this.allocate();
      else if (this.channels.has(p.cid)) {
        cid = p.cid; // resynchronise: abandon what this channel was doing
        if (this.assembling?.cid === cid) this.clearAssembly();
        if (this.busy?.cid === cid) this.busy.abort.abort();
      } else return this.error(p.cid, HID_ERR.INVALID_CHANNEL);
      const r = new Uint8Array(17);
      r.set(nonce);
      new DataView(r.buffer).setUint32(8, cid);
      r[12] = 2; // CTAPHID protocol version
      r.set(this.version, 13);
      r[16] = CAPABILITY.WINK | CAPABILITY.CBOR | CAPABILITY.NMSG;
      this.send(p.cid, CTAPHID.INIT, r);
      return;
    }
    if (p.cmd === CTAPHID.CANCEL) {
      if (this.busy?.cid === p.cid) this.busy.abort.abort();
      return; // no answer of its own
    }
    if (p.cid === BROADCAST_CID || p.cid === 0 || !this.channels.has(p.cid)) return this.error(p.cid, HID_ERR.INVALID_CHANNEL);
    if ((this.busy && this.busy.cid !== p.cid) || (this.assembling && this.assembling.cid !== p.cid)) return this.error(p.cid, HID_ERR.CHANNEL_BUSY);
    if (this.busy) return this.error(p.cid, HID_ERR.CHANNEL_BUSY);
    let reassembly: Reassembly;
    try {
      reassembly = new Reassembly(p);
    } catch (err) {
      return this.error(p.cid, err instanceof ReassemblyError ? err.hidError : HID_ERR.OTHER);
    }
    this.clearAssembly();
    if (reassembly.complete) return this.dispatch(p.cid, p.cmd, reassembly.message);
    const timer = setTimeout(() => {
      this.assembling = undefined;
      this.error(p.cid, HID_ERR.MSG_TIMEOUT);
    }, TRANSACTION_TIMEOUT_MS);
    this.assembling = { cid: p.cid, reassembly, timer };
  }

  private dispatch(cid: number, cmd: number, data: Uint8Array): void {
    switch (cmd) {
      case CTAPHID.PING:
        return this.send(cid, CTAPHID.PING, data);
      case CTAPHID.WINK:
        return this.send(cid, CTAPHID.WINK, new Uint8Array(0));
      case CTAPHID.CBOR:
        void this.runCbor(cid, data);
        return;
      default:
        return this.error(cid, HID_ERR.INVALID_CMD);
    }
  }

  private async runCbor(cid: number, data: Uint8Array): Promise<void> {
    if (data.length === 0) return this.error(cid, HID_ERR.INVALID_LEN);
    const abort = new AbortController();
    this.busy = { cid, abort };
    let status: number = KEEPALIVE_STATUS.PROCESSING;
    const keepalive = () => this.send(cid, CTAPHID.KEEPALIVE, new Uint8Array([status]));
    const timer = setInterval(keepalive, KEEPALIVE_MS);
    try {
      const response = await this.authenticator.handle(data, {
        signal: abort.signal,
        setWaitingForTouch: (waiting) => {
          status = waiting ? KEEPALIVE_STATUS.UPNEEDED : KEEPALIVE_STATUS.PROCESSING;
          if (waiting) keepalive();
        },
      });
      clearInterval(timer);
      if (this.busy?.abort === abort && this.plugged) this.send(cid, CTAPHID.CBOR, response);
    } catch {
      clearInterval(timer);
      if (this.plugged) this.error(cid, HID_ERR.OTHER);
    } finally {
      if (this.busy?.abort === abort) this.busy = undefined;
    }
  }
}
