/**
 * The virtual YubiKey in the registry: `keybridge sim yubikey`, `keybridge rig --yubikey`.
 */
import { FlagError } from '../../term/flags.ts';
import { presenceFlag, stateFlag, stringFlag, type VirtualTokenKind } from '../token.ts';

export const HELP = `Usage: keybridge sim yubikey [options]

Runs a virtual YubiKey 5 (PIV and management applications) that real PC/SC clients — ykman,
yubico-piv-tool, age-plugin-yubikey, OpenSC — see through pcscd's vpcd driver. It stays plugged in
until stopped with Ctrl-C or SIGTERM. Start pcscd with the vpcd driver first (keybridge rig), or
use the system pcscd when the vsmartcard-vpcd package is installed.

Options:
  --serial N        serial number (default 19088743; ignored when --state already exists)
  --version X.Y.Z   firmware version (default 5.7.1: AES-192 default management key, X25519)
  --state FILE      keep keys, PIN/PUK, counters and objects in FILE (created 0600)
  --port P          vpcd port to connect to (default 35963, the first reader slot)
  --host H          vpcd host (default 127.0.0.1)
  --touch MODE      approve (default), deny, or a number of milliseconds after which a
                    touch request times out
  -h, --help        show this help

Example:
  keybridge rig &                       # pcscd + vpcd, reader named like a YubiKey's
  keybridge sim yubikey --state yk.json &
  ykman list
`;

function number(name: string, v: unknown, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) > max) throw new FlagError('rule', `--${name} needs a number up to ${max}`);
  return Number(v);
}

export const token: VirtualTokenKind = {
  name: 'yubikey',
  summary: 'a YubiKey 5: PIV and the management application (ykman, yubico-piv-tool, age-plugin-yubikey)',
  reader: { name: 'Yubico YubiKey OTP+FIDO+CCID', port: 0x8c7b },
  help: HELP,
  flags: {
    serial: { type: 'string', value: 'N', description: 'serial number (default 19088743; ignored when --state already exists)' },
    version: { type: 'string', value: 'X.Y.Z', description: 'firmware version (default 5.7.1: AES-192 default management key, X25519)' },
    state: stateFlag('keys, PIN/PUK, counters and objects'),
    touch: { type: 'string', value: 'MODE', choices: ['approve', 'deny'], description: 'approve (default), deny, or the milliseconds after which a touch request times out' },
  },
  rigFlags: ['serial', 'state'],
  async start(values, at) {
    const serial = number('serial', values.serial, 0xffffffff);
    const touch = presenceFlag('touch', values.touch, ['approve', 'deny']);
    const { startVirtualYubiKey } = await import('./card.ts');
    const yk = await startVirtualYubiKey({ ...at, touch, serial, version: stringFlag(values.version), statePath: stringFlag(values.state) });
    const s = yk.store.state;
    return { label: 'virtual YubiKey', version: s.version.join('.'), id: `serial ${s.serial}`, stop: () => yk.stop() };
  },
};
