/**
 * `keybridge rig`: pcscd in the foreground with the vpcd driver and YubiKey-named readers, for
 * virtual tokens; optionally with a virtual YubiKey already plugged in. Stops cleanly on Ctrl-C.
 */
import { CliError, UsageError, parseCommandArgs, write, type Command } from './io.ts';

const HELP = `Usage: keybridge rig [--yubikey] [--state FILE] [--serial N] [--port P] [--debug]

Starts pcscd in the foreground with the vpcd driver: two reader slots named
"Yubico YubiKey OTP+FIDO+CCID 00 00" / "... 00 01" (so ykman and yubico-piv-tool accept them),
with the TCP_NODELAY preload from native/ (an APDU then costs well under a millisecond).
Refuses to start when another pcscd is running. Needs root (pcscd creates /run/pcscd).
Runs until Ctrl-C or SIGTERM, then stops pcscd and leaves nothing running.

Options:
  --yubikey      also plug a virtual YubiKey into the first slot
  --state FILE   its state file (see keybridge sim yubikey)
  --serial N     its serial number
  --port P       first vpcd port (default 35963; the second slot uses P+1)
  --debug        print pcscd's debug log with every APDU
  -h, --help     show this help
`;

export const command: Command = {
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, {
      yubikey: { type: 'boolean' },
      state: { type: 'string' },
      serial: { type: 'string' },
      port: { type: 'string' },
      debug: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      await write(io.stdout, HELP);
      return 0;
    }
    if (values.port !== undefined && !/^\d+$/.test(values.port)) throw new UsageError('--port needs a number');
    if (values.serial !== undefined && !/^\d+$/.test(values.serial)) throw new UsageError('--serial needs a number');
    const { startRig, RigError } = await import('../rig/pcscd.ts');
    let rig;
    try {
      rig = await startRig({
        ...(values.port ? { port: Number(values.port) } : {}),
        ...(values.debug ? { debug: true, log: (l: string) => io.stderr.write(`pcscd: ${l}\n`) } : {}),
      });
    } catch (e) {
      if (e instanceof RigError) throw new CliError(e.message);
      throw e;
    }
    await write(io.stderr, `pcscd running with readers "${rig.readerNames[0]}" (port ${rig.ports[0]}) and "${rig.readerNames[1]}" (port ${rig.ports[1]})${rig.nodelay ? '' : '; TCP_NODELAY preload not built (make -C native): APDUs will be slow'}\n`);
    let yk;
    if (values.yubikey) {
      const { startVirtualYubiKey } = await import('../sim/yubikey/card.ts');
      yk = await startVirtualYubiKey({
        port: rig.ports[0],
        ...(values.serial ? { serial: Number(values.serial) } : {}),
        ...(values.state ? { statePath: values.state } : {}),
      });
      await rig.waitForCard(0, 'present');
      await write(io.stderr, `virtual YubiKey serial ${yk.serial} plugged in\n`);
    }
    await write(io.stderr, 'Ctrl-C to stop\n');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await yk?.stop();
    await rig.stop();
    await write(io.stderr, 'rig stopped\n');
    return 0;
  },
};
