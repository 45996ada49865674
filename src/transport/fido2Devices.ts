/**
 * Where FIDO2 authenticators are found: `KEYBRIDGE_FIDO2_TCP=HOST:PORT` makes one TCP endpoint
 * with the Pico FIDO emulator's framing the only authenticator (emulators, CI; a comma-separated
 * list gives several); otherwise the USB HID interfaces with the FIDO usage page, through node-hid.
 */
import type { HidDeviceInfo } from './hid/connection.ts';
import { fidoHidDevices, loadNodeHid, type NodeHidModule } from './hid/nodeHid.ts';
import { parseHostPort, tcpDevice } from './hid/tcp.ts';

export const FIDO2_TCP_ENV = 'KEYBRIDGE_FIDO2_TCP';

export interface Fido2DeviceSource {
  list(): Promise<HidDeviceInfo[]>;
}

export function fido2DeviceSource(env: NodeJS.ProcessEnv = process.env, loadHid: () => Promise<NodeHidModule> = loadNodeHid): Fido2DeviceSource {
  const tcp = env[FIDO2_TCP_ENV];
  if (tcp !== undefined && tcp !== '') {
    const devices = tcp.split(',').slice(0, 16).map((spec) => {
      const { host, port } = parseHostPort(spec);
      return tcpDevice(host, port);
    });
    return { list: async () => devices };
  }
  return { list: async () => fidoHidDevices(await loadHid()) };
}
