/**
 * The system's PC/SC readers for the card families' plugin binaries, opened when a family first
 * needs them. Its own module so that a plugin without cards (FIDO2) does not carry the PC/SC code.
 */
import type { CardReaders } from '../../transport/readers.ts';

export const pcscReaders = async (): Promise<CardReaders> => (await import('../../transport/pcsc.ts')).openPcsc();
