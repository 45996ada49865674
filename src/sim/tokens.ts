/**
 * The registry of virtual tokens: every `src/sim/X/token.ts`, found without a list to maintain
 * (src/fs/registry.ts; in the bundles scripts/build.mjs defines `__KEYBRIDGE_SIM_TOKENS__`).
 */
import { familyNames } from '../fs/registry.ts';
import type { VirtualTokenKind } from './token.ts';

declare const __KEYBRIDGE_SIM_TOKENS__: string[] | undefined;

/** Every virtual token, by name. */
export async function virtualTokens(): Promise<VirtualTokenKind[]> {
  return Promise.all(familyNames(typeof __KEYBRIDGE_SIM_TOKENS__ === 'undefined' ? undefined : __KEYBRIDGE_SIM_TOKENS__, new URL('.', import.meta.url), 'token.ts').map(async (n) => ((await import(`./${n}/token.ts`)) as { token: VirtualTokenKind }).token));
}

/** The PC/SC readers of the given tokens (all PC/SC tokens when none are named), as the rig creates them. */
export function readersOf(kinds: VirtualTokenKind[]): { name: string; port: number }[] {
  return kinds.flatMap((k) => (k.reader ? [k.reader] : []));
}
