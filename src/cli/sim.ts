/**
 * `keybridge sim yubikey`: a virtual YubiKey that plugs into pcscd's vpcd reader and stays until
 * stopped (Ctrl-C / SIGTERM). Its state persists in a 0600 file, so it survives restarts like a
 * real card.
 */
import { CliError, UsageError, parseCommandArgs, write, type Command } from './io.ts';

const HELP = `Usage: keybridge sim yubikey [options]
       keybridge sim fido2 [options]   (see keybridge sim fido2 --help)

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

export const command: Command = {
  async run(argv, io) {
    const [kind, ...rest] = argv;
    if (kind === '-h' || kind === '--help' || kind === undefined) {
      await write(kind === undefined ? io.stderr : io.stdout, HELP);
      return kind === undefined ? 2 : 0;
    }
    if (kind === 'fido2') return (await import('./simFido2.ts')).runSimFido2(rest, io);
    if (kind !== 'yubikey') throw new UsageError(`unknown virtual token '${kind}' (available: yubikey, fido2)`);
    const { values } = parseCommandArgs(rest, {
      serial: { type: 'string' },
      version: { type: 'string' },
      state: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      touch: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      await write(io.stdout, HELP);
      return 0;
    }
    const num = (name: string, v: unknown, max: number): number | undefined => {
      if (v === undefined) return undefined;
      if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) > max) throw new UsageError(`--${name} needs a number up to ${max}`);
      return Number(v);
    };
    const serial = num('serial', values.serial, 0xffffffff);
    const port = num('port', values.port, 65535) ?? 0x8c7b;
    const touch = values.touch === undefined || values.touch === 'approve' ? 'approve' : values.touch === 'deny' ? 'deny' : { timeoutMs: num('touch', values.touch, 600_000)! };
    const { startVirtualYubiKey } = await import('../sim/yubikey/card.ts');
    let yk;
    try {
      yk = await startVirtualYubiKey({
        port,
        touch,
        ...(values.host ? { host: values.host } : {}),
        ...(serial !== undefined ? { serial } : {}),
        ...(values.version ? { version: values.version } : {}),
        ...(values.state ? { statePath: values.state } : {}),
        log: (l) => io.stderr.write(`${l}\n`),
      });
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    const s = yk.store.state;
    await write(io.stderr, `virtual YubiKey ${s.version.join('.')} serial ${s.serial} plugged into vpcd port ${port}${values.state ? ` (state in ${values.state})` : ''}; Ctrl-C to unplug\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await yk.stop();
    await write(io.stderr, 'virtual YubiKey unplugged\n');
    return 0;
  },
};
