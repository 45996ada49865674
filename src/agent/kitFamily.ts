/**
 * A kit token family run inside the agent. The family's own code does the work — the kit's
 * identity-v1 engine over `family.devices()` — with three things swapped in: the reader system is
 * the agent's held one (closing it after a run keeps the connections), the user is the calling
 * plugin's age client (relayed), and two PIN sources come first in the kit's chain:
 *
 * - the remembered PIN of this device (for slots that need it on every decryption), forgotten
 *   when the card rejects it;
 * - the user, asked through the relay; a PIN the card accepts is remembered in locked memory,
 *   except for PIN policy "once", where the held card session already remembers it.
 *
 * Device keys are `<family>:<device key>` (`yubikey:12345678`).
 */
import type { CardReaders } from '../transport/readers.ts';
import type { AnyFamily } from '../plugins/kit/family.ts';
import { unwrapFiles } from '../plugins/kit/identity.ts';
import type { PinRequest, PinSource } from '../plugins/kit/pinSource.ts';
import type { AgentContext, AgentFamily } from './server.ts';

const PIN = 'pin';

function agentPinSources(ctx: AgentContext): PinSource[] {
  const key = (req: PinRequest) => `${req.family}:${req.device.key}`;
  const remembered: PinSource = {
    interactive: false,
    async pin(req) {
      ctx.device(key(req));
      return ctx.cache.withSecret(key(req), PIN, (b) => new TextDecoder().decode(b));
    },
    outcome(req, ok) {
      if (!ok) {
        ctx.cache.dropSecret(key(req), PIN);
        ctx.log(`${key(req)}: the remembered PIN was refused; asking the user`);
      }
    },
  };
  // The PIN the user gave for each request, until the card has said whether it is right.
  const given = new Map<PinRequest, string>();
  const user: PinSource = {
    interactive: true,
    async pin(req) {
      ctx.device(key(req));
      const pin = await ctx.ui.requestSecret(req.prompt);
      given.set(req, pin);
      return pin;
    },
    outcome(req, ok) {
      const pin = given.get(req);
      given.delete(req);
      if (!ok || pin === undefined || req.once) return;
      const bytes = new TextEncoder().encode(pin);
      try {
        ctx.cache.putSecret(key(req), PIN, bytes);
      } catch (e) {
        ctx.log(`${key(req)}: the PIN cannot be kept in locked memory (${(e as Error).message}); it will be asked again`);
      } finally {
        bytes.fill(0);
      }
    },
  };
  return [remembered, user];
}

/** What a family is built over inside the agent: the held reader system, and the request's cancel signal. */
export interface AgentFamilyDeps {
  readers: () => Promise<CardReaders>;
  signal: AbortSignal;
}

/** `load` builds the family for one request (e.g. `yubikeyFamily({ readers })`). */
export function kitAgentFamily(name: string, load: (deps: AgentFamilyDeps) => AnyFamily | Promise<AnyFamily>): AgentFamily {
  return {
    name,
    async unwrap(req, ctx) {
      const readers = ctx.readers;
      const family = await load({ readers: async () => readers, signal: ctx.signal });
      const r = await unwrapFiles(family, req, {
        ui: ctx.ui,
        pinSources: agentPinSources(ctx),
        skipNotFound: ctx.skipNotFound,
        interactive: ctx.interactive,
        log: ctx.log,
      });
      return { fileKeys: r.fileKeys, errors: r.errors };
    },
  };
}
