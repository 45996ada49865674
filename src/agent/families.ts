/**
 * The token families whose operations the agent runs. Each entry adapts one family's unwrap to
 * the agent (its device keys, what it remembers); the families themselves know nothing of the
 * agent.
 */
import type { AgentFamily } from './server.ts';

export async function agentFamilies(): Promise<AgentFamily[]> {
  return [];
}
