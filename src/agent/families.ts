/**
 * The token families whose operations the agent runs: each is the family's own kit code over the
 * agent's held readers (kitFamily.ts), or for FIDO2 over the keys the agent reaches itself
 * (fido2.ts). The families themselves know nothing of the agent. A plugin whose family is not
 * listed here falls back to decrypting by itself.
 */
import { fido2DeviceSource } from '../transport/fido2Devices.ts';
import { Fido2Presence, fido2AgentFamily } from './fido2.ts';
import { kitAgentFamily } from './kitFamily.ts';
import type { AgentFamily } from './server.ts';

export async function agentFamilies(env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = () => undefined): Promise<AgentFamily[]> {
  const source = fido2DeviceSource(env);
  const presence = new Fido2Presence(source, log);
  const keys = async () => new (await import('../tokens/ctap2/authenticators.ts')).AuthenticatorSet(source);
  return [
    kitAgentFamily('yubikey', async ({ readers }) => (await import('../plugins/yubikey/family.ts')).yubikeyFamily({ readers })),
    kitAgentFamily('picohsm', async ({ readers }) => (await import('../plugins/picohsm/family.ts')).picoHsmFamily({ readers })),
    fido2AgentFamily('fido2-hmac', presence, async ({ signal }) => (await import('../plugins/fido2-hmac/family.ts')).fido2HmacFamily({ keys: await keys(), signal, closeKeys: true })),
    fido2AgentFamily('fido2prf', presence, async ({ signal }) => (await import('../plugins/fido2prf/family.ts')).fido2PrfFamily({ keys: await keys(), signal, closeKeys: true })),
  ];
}
