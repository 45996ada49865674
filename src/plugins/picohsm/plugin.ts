/**
 * The Pico HSM plugin on the age plugin protocol: the kit's state machines over the Pico HSM
 * family (loaded once the client's requests are in), with `PICOHSM_PIN` as a PIN source before the
 * user, for drop-in use with pinpox's plugin (a warning says it is visible to other processes).
 */
import type { Io } from '../../term/io.ts';
import type { CardReaders } from '../../transport/readers.ts';
import { kitEnvironment, runStateMachine as runKitStateMachine } from '../kit/plugin.ts';
import type { PinSource } from '../kit/pinSource.ts';
import type { RemoteUnwrap } from '../kit/remote.ts';
import { PIN_ENV, PLUGIN_NAME, S } from './strings.ts';

/** `PICOHSM_PIN` as a non-interactive PIN source; warns once, when first used. */
export function envPinSource(io: Pick<Io, 'env' | 'stderr'>): PinSource | null {
  const pin = io.env[PIN_ENV];
  if (pin === undefined) return null;
  let warned = false;
  return {
    interactive: false,
    async pin() {
      if (!warned) io.stderr.write(`${S.pinEnvWarning}\n`);
      warned = true;
      return pin;
    },
  };
}

/** `remote`: a session agent to hand unwraps to, injected by the entry point. */
export function runStateMachine(stateMachine: string, io: Io, openReaders: () => Promise<CardReaders>, remote?: RemoteUnwrap): Promise<number> {
  return runKitStateMachine(PLUGIN_NAME, async () => (await import('./family.ts')).picoHsmFamily({ readers: openReaders }), stateMachine, io, (family) => {
    const env = kitEnvironment(family, io, remote ? { remote } : {});
    const source = envPinSource(io);
    return source ? { ...env, pinSources: [...(env.pinSources ?? []), source] } : env;
  });
}
