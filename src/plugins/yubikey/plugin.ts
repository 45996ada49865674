/**
 * The YubiKey plugin on the age plugin protocol: the kit's state machines over the YubiKey family
 * (loaded once the client's requests are in).
 */
import type { Io } from '../../term/io.ts';
import type { CardReaders } from '../../transport/readers.ts';
import { runStateMachine as runKitStateMachine } from '../kit/plugin.ts';

export function runStateMachine(stateMachine: string, io: Io, openReaders: () => Promise<CardReaders>): Promise<number> {
  return runKitStateMachine('yubikey', async () => (await import('./family.ts')).yubikeyFamily({ readers: openReaders }), stateMachine, io);
}
