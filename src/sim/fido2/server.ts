/**
 * Starts a virtual FIDO2 authenticator: the CTAP 2.1 authenticator, its CTAPHID device side,
 * and optionally a TCP listener speaking the Pico FIDO emulator's framing (2-byte big-endian
 * length + one 64-byte report per message), which is what `KEYBRIDGE_FIDO2_TCP=HOST:PORT` and
 * python-fido2 through a small socket connection reach. In-process hosts use `device()`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { memoryDevice } from '../../transport/hid/memory.ts';
import type { HidDeviceInfo } from '../../transport/hid/connection.ts';
import { ReportDeframer, frameReport } from '../../transport/hid/tcp.ts';
import { VirtualAuthenticator, type AuthenticatorEvent, type TouchMode } from './authenticator.ts';
import { VirtualCtapHid } from './hidDevice.ts';
import type { CoseAlgorithm } from './algorithms.ts';
import { Fido2StateStore, freshFido2State } from './state.ts';

export interface VirtualFido2Options {
  /** TCP port to listen on (0 = any free port); without it there is no listener. */
  readonly port?: number;
  readonly host?: string;
  /** Keeps the PIN, counters and device secret in this file (created 0600). */
  readonly statePath?: string;
  readonly touch?: TouchMode;
  /** The credential algorithms it supports (COSE ids, in its order of preference; default ES256, EdDSA, RS256). */
  readonly algorithms?: readonly CoseAlgorithm[];
  /** Name for a fresh state (shown as the HID product). */
  readonly name?: string;
  readonly log?: (line: string) => void;
}

export interface VirtualFido2 {
  readonly authenticator: VirtualAuthenticator;
  readonly hid: VirtualCtapHid;
  readonly store: Fido2StateStore;
  /** The TCP port, when listening. */
  readonly port?: number;
  /** `HOST:PORT` for KEYBRIDGE_FIDO2_TCP, when listening. */
  readonly endpoint?: string;
  /** An in-process HID device for this authenticator. */
  device(): HidDeviceInfo;
  setTouch(mode: TouchMode): void;
  /** Every event from now on (touch requested, touch result, PIN checks, commands). */
  onEvent(listener: (e: AuthenticatorEvent) => void): () => void;
  /** Resolves at the next event matching `pred` (bounded by `timeoutMs`). */
  waitFor(pred: (e: AuthenticatorEvent) => boolean, timeoutMs?: number): Promise<AuthenticatorEvent>;
  unplug(): void;
  plugIn(): void;
  stop(): Promise<void>;
}

export async function startVirtualFido2(options: VirtualFido2Options = {}): Promise<VirtualFido2> {
  const loaded = options.statePath ? Fido2StateStore.load(options.statePath) : null;
  const store = new Fido2StateStore(loaded ?? freshFido2State(options.name), options.statePath);
  if (!loaded) await store.save();
  const authenticator = new VirtualAuthenticator(store, { ...(options.touch ? { touch: options.touch } : {}), ...(options.algorithms ? { algorithms: options.algorithms } : {}) });
  const hid = new VirtualCtapHid(authenticator);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port: number | undefined;
  const host = options.host ?? '127.0.0.1';

  if (options.port !== undefined) {
    server = createServer((socket) => {
      if (!hid.isPlugged) {
        socket.destroy();
        return;
      }
      sockets.add(socket);
      socket.setNoDelay(true);
      const attachment = hid.attach(
        (report) => {
          if (!socket.destroyed) socket.write(frameReport(report));
        },
        () => socket.destroy(),
      );
      const deframer = new ReportDeframer(
        (r) => attachment.receive(r),
        (m) => {
          options.log?.(`bad frame from host: ${m}`);
          socket.destroy();
        },
      );
      socket.on('data', (c: Buffer) => deframer.push(c));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        attachment.detach();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(options.port, host, () => {
        server!.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    port = typeof addr === 'object' && addr ? addr.port : options.port;
  }

  const path = port !== undefined ? `memory:${host}:${port}` : `memory:${store.state.aaguid.slice(0, 8)}`;
  return {
    authenticator,
    hid,
    store,
    ...(port !== undefined ? { port, endpoint: `${host}:${port}` } : {}),
    device: () => memoryDevice(hid, path, store.state.name),
    setTouch: (m) => authenticator.setTouch(m),
    onEvent(listener) {
      authenticator.on('event', listener);
      return () => authenticator.off('event', listener);
    },
    waitFor(pred, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          authenticator.off('event', l);
          reject(new Error(`virtual authenticator: the expected event did not happen within ${timeoutMs} ms`));
        }, timeoutMs);
        const l = (e: AuthenticatorEvent) => {
          if (!pred(e)) return;
          clearTimeout(timer);
          authenticator.off('event', l);
          resolve(e);
        };
        authenticator.on('event', l);
      });
    },
    unplug() {
      hid.unplug();
      for (const s of sockets) s.destroy();
    },
    plugIn: () => hid.plugIn(),
    async stop() {
      hid.unplug();
      for (const s of sockets) s.destroy();
      if (server) await new Promise<void>((r) => server!.close(() => r()));
      await store.save();
    },
  };
}
