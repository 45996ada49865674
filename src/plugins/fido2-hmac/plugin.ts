/**
 * age-plugin-fido2-hmac on the age plugin protocol: the family (`family.ts`) on the kit's
 * engines. The keys are reached through KEYBRIDGE_FIDO2_TCP (TCP endpoints) or USB HID;
 * FIDO2_TOKEN restricts them to one device path; a pending touch is cancelled (CTAPHID_CANCEL)
 * when the client goes away or on SIGINT/SIGTERM.
 */
import type { Io } from '../../term/io.ts';
import { fido2DeviceSource } from '../../transport/fido2Devices.ts';
import { AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import type { RemoteUnwrap } from '../kit/remote.ts';
import { runCancellableFamily } from '../kit/run.ts';
import { fido2HmacFamily } from './family.ts';

export { SKIP_ENV } from './family.ts';

export function openKeys(env: NodeJS.ProcessEnv): AuthenticatorSet {
  const only = env.FIDO2_TOKEN;
  return new AuthenticatorSet(fido2DeviceSource(env), only ? { onlyPath: only } : {});
}

/** `remote`: a session agent to hand unwraps to, injected by the entry point. */
export function runStateMachine(stateMachine: string, io: Io, remote?: RemoteUnwrap): Promise<number> {
  const keys = openKeys(io.env);
  const pq = /^(1|true|yes)$/i.test(io.env.FIDO2_HMAC_PQ ?? '');
  return runCancellableFamily(
    stateMachine,
    io,
    (signal) =>
      fido2HmacFamily({
        keys,
        pq,
        get signal() {
          return signal();
        },
      }),
    () => keys.close(),
    remote ? { remote } : {},
  );
}
