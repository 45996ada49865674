/**
 * The token families whose operations the agent runs: each is the family's own kit code over the
 * agent's held readers (kitFamily.ts). The families themselves know nothing of the agent. A
 * plugin whose family is not listed here falls back to decrypting by itself.
 */
import { kitAgentFamily } from './kitFamily.ts';
import type { AgentFamily } from './server.ts';

export async function agentFamilies(): Promise<AgentFamily[]> {
  return [
    kitAgentFamily('yubikey', async (readers) => (await import('../plugins/yubikey/family.ts')).yubikeyFamily({ readers })),
    kitAgentFamily('picohsm', async (readers) => (await import('../plugins/picohsm/family.ts')).picoHsmFamily({ readers })),
  ];
}
