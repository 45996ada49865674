/**
 * `keybridge sim fido2`: a virtual CTAP 2.1 authenticator listening on TCP with the Pico FIDO
 * emulator's framing, until stopped (Ctrl-C / SIGTERM). Point the FIDO2 plugins at it with
 * `KEYBRIDGE_FIDO2_TCP=HOST:PORT`; python-fido2 and other CTAPHID clients reach it through a
 * socket connection. State (PIN, retry counter, device secret) persists in a 0600 file.
 */
import { CliError, UsageError, parseCommandArgs, write, type Io } from './io.ts';

export const SIM_FIDO2_HELP = `Usage: keybridge sim fido2 [options]

Runs a virtual FIDO2 security key (CTAP 2.1 over CTAPHID: PIN protocols 1 and 2, ES256
credentials, hmac-secret) on TCP with the Pico FIDO emulator's framing (2-byte length + 64-byte
report). age-plugin-fido2-hmac and age-plugin-fido2prf use it as the only key when
KEYBRIDGE_FIDO2_TCP=HOST:PORT is set. It stays plugged in until Ctrl-C or SIGTERM.

Options:
  --port N          TCP port (default 35962, the Pico FIDO emulator's)
  --host H          address to listen on (default 127.0.0.1)
  --state FILE      keep the PIN, retry counter and device secret in FILE (created 0600);
                    without it the key is new each time and forgets its credentials
  --touch MODE      approve (default), deny, or a number of milliseconds after which a touch
                    request times out
  --name NAME       product name of a new key (default "keybridge virtual FIDO2")
  -h, --help        show this help

Example:
  keybridge sim fido2 --state key.json &
  export KEYBRIDGE_FIDO2_TCP=127.0.0.1:35962
  age-plugin-fido2-hmac -g > identity.txt
`;

export async function runSimFido2(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    state: { type: 'string' },
    touch: { type: 'string' },
    name: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    await write(io.stdout, SIM_FIDO2_HELP);
    return 0;
  }
  const num = (name: string, v: string, max: number): number => {
    if (!/^\d+$/.test(v) || Number(v) > max) throw new UsageError(`--${name} needs a number up to ${max}`);
    return Number(v);
  };
  const port = values.port === undefined ? 35962 : num('port', values.port, 65535);
  const touch = values.touch === undefined || values.touch === 'approve' ? 'approve' : values.touch === 'deny' ? 'deny' : { timeoutMs: num('touch', values.touch, 600_000) };
  if (values.name !== undefined && (values.name.length === 0 || values.name.length > 64)) throw new UsageError('--name needs 1 to 64 characters');
  const { startVirtualFido2 } = await import('../sim/fido2/server.ts');
  let key;
  try {
    key = await startVirtualFido2({
      port,
      touch,
      ...(values.host ? { host: values.host } : {}),
      ...(values.state ? { statePath: values.state } : {}),
      ...(values.name ? { name: values.name } : {}),
      log: (l) => io.stderr.write(`${l}\n`),
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') throw new CliError(`port ${port} is in use (another emulator?); choose one with --port`);
    throw new CliError(err.message);
  }
  key.onEvent((e) => {
    if (e.type === 'touch-requested') io.stderr.write(`touch requested (${e.command})\n`);
    else if (e.type === 'touch') io.stderr.write(`touch ${e.result}\n`);
    else if (e.type === 'pin') io.stderr.write(`PIN ${e.result}\n`);
  });
  await write(
    io.stderr,
    `virtual FIDO2 key "${key.store.state.name}" on ${key.endpoint}${values.state ? ` (state in ${values.state})` : ''}; Ctrl-C to unplug\n` + `export KEYBRIDGE_FIDO2_TCP=${key.endpoint}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await key.stop();
  await write(io.stderr, 'virtual FIDO2 key unplugged\n');
  return 0;
}
