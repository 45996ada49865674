/**
 * The virtual Pico HSM in the registry: `keybridge sim picohsm`, `keybridge rig --picohsm`.
 */
import { FlagError } from '../../term/flags.ts';
import { presenceFlag, stateFlag, stringFlag, type VirtualTokenKind } from '../token.ts';

export const HELP = `Usage: keybridge sim picohsm [options]

Runs a virtual Pico HSM (the SmartCard-HSM application) that real PC/SC clients — OpenSC's
opensc-tool, sc-hsm-tool and pkcs11-tool (opensc-pkcs11.so), age-plugin-picohsm — see through
pcscd's vpcd driver. It stays plugged in until stopped with Ctrl-C or SIGTERM. Start pcscd with the
vpcd driver first (keybridge rig), or use the system pcscd when vsmartcard-vpcd is installed.

A new device is initialised with PIN 648219 and SO-PIN 3537363231383830 (change them with
pkcs11-tool --change-pin / sc-hsm-tool), or left uninitialised with --uninitialised.

Options:
  --serial S        serial, 4 to 11 characters A-Z 0-9 (new devices; default random ESPH…)
  --state FILE      keep keys, PIN/SO-PIN, counters and files in FILE (created 0600)
  --uninitialised   a new device as it leaves the factory (sc-hsm-tool --initialize sets it up)
  --button MODE     the press-to-confirm button: off (default), approve, deny, or a number of
                    milliseconds after which the press times out
  --port P          vpcd port to connect to (default 35965, the Pico HSM reader's first slot)
  --host H          vpcd host (default 127.0.0.1)
  -h, --help        show this help

Example:
  keybridge rig --picohsm --state hsm.json &
  opensc-tool -n                          # SmartCard-HSM version 5.4
  age-plugin-picohsm --generate --label ci --key-type x25519 > identity.txt
`;

export const token: VirtualTokenKind = {
  name: 'picohsm',
  summary: 'a Pico HSM: the SmartCard-HSM application (OpenSC sc-hsm-tool/pkcs11-tool, age-plugin-picohsm)',
  reader: { name: 'Pol Henarejos Pico Key', port: 0x8c7d },
  help: HELP,
  flags: {
    serial: { type: 'string', value: 'S', description: 'serial, 4 to 11 characters A-Z 0-9 (new devices; default random ESPH…)' },
    state: stateFlag('keys, PIN/SO-PIN, counters and files'),
    uninitialised: { type: 'boolean', description: 'a new device as it leaves the factory (sc-hsm-tool --initialize sets it up)' },
    button: { type: 'string', value: 'MODE', choices: ['off', 'approve', 'deny'], description: 'the press-to-confirm button: off (default), approve, deny, or the milliseconds after which a press times out' },
  },
  rigFlags: ['serial', 'state'],
  async start(values, at) {
    const button = presenceFlag('button', values.button, ['off', 'approve', 'deny']);
    const serial = stringFlag(values.serial);
    if (serial !== undefined && !/^[A-Z0-9]{4,11}$/.test(serial)) throw new FlagError('rule', '--serial needs 4 to 11 characters A-Z 0-9');
    const { startVirtualPicoHsm } = await import('./card.ts');
    const hsm = await startVirtualPicoHsm({ ...at, button, serial, statePath: stringFlag(values.state), initialise: values.uninitialised ? false : undefined });
    const s = hsm.store.state;
    return { label: 'virtual Pico HSM', version: s.version.join('.'), id: `serial ${s.serial}${s.initialized ? '' : ' (uninitialised)'}`, stop: () => hsm.stop() };
  },
};
