/**
 * The virtual FIDO2 key in the registry: `keybridge sim fido2`. It is reached over TCP with the
 * Pico FIDO emulator's framing (2-byte length + one 64-byte CTAPHID report), not through pcscd:
 * point the FIDO2 plugins at it with `KEYBRIDGE_FIDO2_TCP=HOST:PORT`.
 */
import { FlagError } from '../../term/flags.ts';
import type { VirtualTokenKind } from '../token.ts';

export const HELP = `Usage: keybridge sim fido2 [options]

Runs a virtual FIDO2 security key (CTAP 2.1 over CTAPHID: PIN protocols 1 and 2, ES256
credentials, hmac-secret) on TCP with the Pico FIDO emulator's framing (2-byte length + 64-byte
report). age-plugin-fido2-hmac and age-plugin-fido2prf use it as the only key when
KEYBRIDGE_FIDO2_TCP=HOST:PORT is set. It stays plugged in until Ctrl-C or SIGTERM.

Options:
  --port N          TCP port (default 35962, the Pico FIDO emulator's; 0 = any free port)
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

export const token: VirtualTokenKind = {
  name: 'fido2',
  summary: 'a FIDO2 security key: CTAP 2.1 with hmac-secret over TCP (age-plugin-fido2-hmac, age-plugin-fido2prf, python-fido2)',
  tcp: { port: 35962 },
  help: HELP,
  flags: {
    state: { type: 'string', value: 'FILE', complete: 'file', description: 'keep the PIN, retry counter and device secret in FILE (created 0600)' },
    touch: { type: 'string', value: 'MODE', description: 'approve (default), deny, or the milliseconds after which a touch request times out' },
    name: { type: 'string', value: 'NAME', description: 'product name of a new key' },
  },
  rigFlags: [],
  async start(values, at) {
    const t = values.touch;
    let touch: 'approve' | 'deny' | { timeoutMs: number } = 'approve';
    if (t === 'deny') touch = 'deny';
    else if (t !== undefined && t !== 'approve') {
      if (typeof t !== 'string' || !/^\d+$/.test(t) || Number(t) > 600_000) throw new FlagError('rule', '--touch needs approve, deny or a number of milliseconds up to 600000');
      touch = { timeoutMs: Number(t) };
    }
    const name = values.name;
    if (name !== undefined && (typeof name !== 'string' || name.length === 0 || name.length > 64)) throw new FlagError('rule', '--name needs 1 to 64 characters');
    const { startVirtualFido2 } = await import('./server.ts');
    let key;
    try {
      key = await startVirtualFido2({
        port: at.port,
        touch,
        log: at.log,
        ...(at.host ? { host: at.host } : {}),
        ...(typeof values.state === 'string' ? { statePath: values.state } : {}),
        ...(typeof name === 'string' ? { name } : {}),
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`port ${at.port} is in use (another emulator?); choose one with --port`);
      throw e;
    }
    key.onEvent((e) => {
      if (e.type === 'touch-requested') at.log(`touch requested (${e.command})`);
      else if (e.type === 'touch') at.log(`touch ${e.result}`);
      else if (e.type === 'pin') at.log(`PIN ${e.result}`);
    });
    at.log(`export KEYBRIDGE_FIDO2_TCP=${key.endpoint}`);
    return { label: 'virtual FIDO2 key', id: `"${key.store.state.name}"`, where: `listening on ${key.endpoint}`, stop: () => key.stop() };
  },
};
