/**
 * node:crypto, loaded on first use: requiring it sets up node's stream modules (milliseconds of a
 * one-shot command's start), which a command that never calls it does not need to pay for.
 */
import { builtin } from './builtin.ts';

export const nodeCrypto = (): typeof import('node:crypto') => builtin('node:crypto');
