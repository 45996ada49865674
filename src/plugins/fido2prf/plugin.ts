/**
 * age-plugin-fido2prf on the age plugin protocol: the family (`family.ts`) on the kit's engines,
 * the keys from KEYBRIDGE_FIDO2_TCP or USB HID, a pending touch cancelled when the client goes
 * away or on SIGINT/SIGTERM.
 */
import type { Io } from '../../term/io.ts';
import { fido2DeviceSource } from '../../transport/fido2Devices.ts';
import { AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import type { RemoteUnwrap } from '../kit/remote.ts';
import { runCancellableFamily } from '../kit/run.ts';
import { fido2PrfFamily } from './family.ts';

export { SKIP_ENV } from './family.ts';

/** `remote`: a session agent to hand unwraps to, injected by the entry point. */
export function runStateMachine(stateMachine: string, io: Io, remote?: RemoteUnwrap): Promise<number> {
  const keys = new AuthenticatorSet(fido2DeviceSource(io.env));
  return runCancellableFamily(
    stateMachine,
    io,
    (signal) =>
      fido2PrfFamily({
        keys,
        get signal() {
          return signal();
        },
      }),
    () => keys.close(),
    remote ? { remote } : {},
  );
}
