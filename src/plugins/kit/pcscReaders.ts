/**
 * The system's PC/SC readers for the smart-card plugins' entry points, opened when a family first
 * needs them. Its own module: a plugin without cards (FIDO2) has no PC/SC code in its files.
 */
import type { CardReaders } from '../../transport/readers.ts';

export const pcscReaders = async (): Promise<CardReaders> => (await import('../../transport/pcsc.ts')).openPcsc();
