/**
 * The YubiKey plugin on the age plugin protocol: the kit's state machines over the YubiKey family
 * (loaded once the client's requests are in).
 */
import type { Io } from '../../term/io.ts';
import type { CardReaders } from '../../transport/readers.ts';
import { kitEnvironment, runStateMachine as runKitStateMachine } from '../kit/plugin.ts';
import type { RemoteUnwrap } from '../kit/remote.ts';

/** `remote`: a session agent to hand unwraps to, injected by the entry point. */
export function runStateMachine(stateMachine: string, io: Io, openReaders: () => Promise<CardReaders>, remote?: RemoteUnwrap): Promise<number> {
  return runKitStateMachine('yubikey', async () => (await import('./family.ts')).yubikeyFamily({ readers: openReaders }), stateMachine, io, (family) => kitEnvironment(family, io, remote ? { remote } : {}));
}
