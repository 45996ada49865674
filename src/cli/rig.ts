/**
 * `keybridge rig`: pcscd in the foreground with the vpcd driver and one reader per virtual token
 * (from the registry), named like the real device's; optionally with tokens already plugged in.
 * Stops cleanly on Ctrl-C.
 */
import { FlagError } from '../term/flags.ts';
import { CliError, UsageError, parseCommandArgs, write, type Command } from './io.ts';
import { portOf, untilStopped } from './sim.ts';
import type { RunningToken, VirtualTokenKind } from '../sim/token.ts';
import { HELP_OPTION, type CommandArgs, type OptionDefs } from '../term/spec.ts';

function help(kinds: VirtualTokenKind[]): string {
  const pcsc = kinds.filter((k) => k.reader);
  const width = Math.max(...pcsc.map((k) => k.name.length));
  return `Usage: keybridge rig [${pcsc.map((k) => `--${k.name}`).join('] [')}] [--state FILE] [--serial N] [--port P] [--debug]

Starts pcscd in the foreground with the vpcd driver: one reader with two slots per virtual token,
named like the real device's (so its usual clients accept it), with the TCP_NODELAY preload from
native/ (an APDU then costs well under a millisecond):
${pcsc.map((k) => `  ${k.name.padEnd(width)}  "${k.reader!.name} 00 00" / "... 00 01" (ports ${k.reader!.port}/${k.reader!.port + 1})`).join('\n')}
Refuses to start when another pcscd is running. Needs root (pcscd creates /run/pcscd).
Runs until Ctrl-C or SIGTERM, then stops pcscd and leaves nothing running.

Options:
${pcsc.map((k) => `  --${k.name.padEnd(12)} plug a virtual ${k.name} into the first slot of its reader (then only its reader is created)`).join('\n')}
  --state FILE   the token's state file (see keybridge sim <token>)
  --serial N     the token's serial number
  --port P       first vpcd port when there is one reader (the second slot uses P+1)
  --debug        print pcscd's debug log with every APDU
  -h, --help     show this help
`;
}

/** The rig's options: one per PC/SC virtual token (plug it in), then the common ones. */
function optionsOf(kinds: VirtualTokenKind[]): OptionDefs {
  return {
    ...Object.fromEntries(kinds.map((k) => [k.name, { type: 'boolean', description: `plug a virtual ${k.name} into the first slot of its reader (then only its reader is created)` } as const])),
    state: { type: 'string', value: 'FILE', complete: 'file', description: "the token's state file (see keybridge sim <token>)" },
    serial: { type: 'string', value: 'N', description: "the token's serial number" },
    port: { type: 'string', value: 'P', description: 'first vpcd port when there is one reader (the second slot uses P+1)' },
    debug: { type: 'boolean', description: "print pcscd's debug log with every APDU" },
    help: HELP_OPTION,
  };
}

async function pcscTokens(): Promise<VirtualTokenKind[]> {
  const { virtualTokens } = await import('../sim/tokens.ts');
  return (await virtualTokens()).filter((k) => k.reader);
}

export const command: Command = {
  spec: async (): Promise<CommandArgs> => ({ options: optionsOf(await pcscTokens()) }),
  async run(argv, io) {
    const kinds = await pcscTokens();
    const { values: parsed } = parseCommandArgs(argv, optionsOf(kinds));
    const values = parsed as Record<string, string | boolean | undefined>;
    if (values.help) {
      await write(io.stdout, help(kinds));
      return 0;
    }
    const plugged = kinds.filter((k) => values[k.name]);
    const used = plugged.length ? plugged : kinds;
    if (values.port !== undefined && used.length !== 1) throw new UsageError('--port needs exactly one reader: name the token (e.g. --yubikey)');
    if (values.port !== undefined && !/^\d+$/.test(values.port as string)) throw new UsageError('--port needs a number');
    if (values.serial !== undefined && !/^\d+$/.test(values.serial as string)) throw new UsageError('--serial needs a number');
    if ((values.state !== undefined || values.serial !== undefined) && plugged.length > 1) throw new UsageError('--state and --serial go with exactly one token to plug in');
    const readers = used.map((k) => ({ name: k.reader!.name, port: values.port !== undefined ? portOf(values.port as string, 0) : k.reader!.port }));
    const { startRig, RigError } = await import('../rig/pcscd.ts');
    let rig;
    try {
      rig = await startRig({ readers, ...(values.debug ? { debug: true, log: (l: string) => io.stderr.write(`pcscd: ${l}\n`) } : {}) });
    } catch (e) {
      if (e instanceof RigError) throw new CliError(e.message);
      throw e;
    }
    const described = rig.readers.map((r) => `"${r.slots[0]}" (port ${r.ports[0]}) and "${r.slots[1]}" (port ${r.ports[1]})`).join('; ');
    await write(io.stderr, `pcscd running with readers ${described}${rig.nodelay ? '' : '; TCP_NODELAY preload not built (make -C native): APDUs will be slow'}\n`);
    const running: RunningToken[] = [];
    try {
      for (const k of plugged) {
        const r = rig.readers[used.indexOf(k)]!;
        const opts = Object.fromEntries(k.rigFlags.filter((f) => values[f] !== undefined).map((f) => [f, values[f]]));
        const t = await k.start(opts, { port: r.ports[0], log: (l) => io.stderr.write(`${l}\n`) });
        running.push(t);
        await write(io.stderr, `${t.label} ${t.id} plugged in\n`);
      }
    } catch (e) {
      for (const t of running) await t.stop().catch(() => undefined);
      await rig.stop();
      if (e instanceof FlagError) throw new UsageError(e.message);
      throw new CliError((e as Error).message);
    }
    await write(io.stderr, 'Ctrl-C to stop\n');
    await untilStopped();
    for (const t of running) await t.stop();
    await rig.stop();
    await write(io.stderr, 'rig stopped\n');
    return 0;
  },
};
