/**
 * FIDO2 keys in the agent (fido2-hmac, fido2prf). The family's own kit code runs here over the
 * keys the agent itself can reach (USB HID, or `KEYBRIDGE_FIDO2_TCP` in the agent's environment),
 * opened afresh for each request. What the agent keeps is the key's PIN, per key (`<family>:<key
 * path>`), in locked memory, remembered by the kit PIN sources of kitFamily.ts: every assertion
 * gets a new pinUvAuthToken from it, and the touch message travels back through the plugin.
 *
 * A key the agent remembers is watched so that pulling it makes the agent forget it, as a removed
 * card does: over TCP a connection is held open and its closing is the removal; a HID key is
 * looked for among the plugged-in devices every second.
 */
import type { AnyFamily } from '../plugins/kit/family.ts';
import type { HidConnection } from '../transport/hid/connection.ts';
import type { Fido2DeviceSource } from '../transport/fido2Devices.ts';
import type { DeviceCache } from './deviceCache.ts';
import { kitAgentFamily, type AgentFamilyDeps } from './kitFamily.ts';
import type { AgentFamily } from './server.ts';

const POLL_MS = 1000;

interface Watch {
  ids: Set<string>;
  stop(): void;
}

/** Forgets remembered FIDO2 keys when they go away. */
export class Fido2Presence {
  private readonly watches = new Map<string, Watch>();
  private listening = false;

  constructor(
    private readonly source: Fido2DeviceSource,
    private readonly log: (line: string) => void,
  ) {}

  /** Watches the key at `path` for as long as `cache` remembers `id`. */
  watch(cache: DeviceCache, id: string, path: string): void {
    if (!this.listening) {
      this.listening = true;
      cache.onForget((d) => {
        for (const [p, w] of this.watches) {
          if (!w.ids.delete(d.id) || w.ids.size) continue;
          w.stop();
          this.watches.delete(p);
        }
      });
    }
    const known = this.watches.get(path);
    if (known) {
      known.ids.add(id);
      return;
    }
    const w: Watch = { ids: new Set([id]), stop: () => undefined };
    this.watches.set(path, w);
    const gone = () => {
      if (this.watches.get(path) !== w) return;
      this.watches.delete(path);
      w.stop();
      this.log(`FIDO2 key ${path} went away`);
      for (const i of w.ids) cache.forget(i, 'removed');
    };
    if (path.startsWith('tcp:')) this.holdConnection(path, w, gone);
    else this.poll(path, w, gone);
  }

  private holdConnection(path: string, w: Watch, gone: () => void): void {
    let conn: HidConnection | undefined;
    let stopped = false;
    w.stop = () => {
      stopped = true;
      void conn?.close().catch(() => undefined);
    };
    void (async () => {
      try {
        const info = (await this.source.list()).find((d) => d.path === path);
        if (!info) return gone();
        conn = await info.open();
        if (stopped) return void conn.close().catch(() => undefined);
        // Nothing is ever sent on it, so nothing arrives; a read ends only when the key goes away.
        for (;;) await conn.read(3600_000).catch((e: { code?: string }) => {
          if (e.code !== 'TIMEOUT') throw e;
        });
      } catch {
        if (!stopped) gone();
      }
    })();
  }

  private poll(path: string, w: Watch, gone: () => void): void {
    const t = setInterval(() => {
      void this.source.list().then(
        (all) => {
          if (!all.some((d) => d.path === path)) gone();
        },
        () => undefined,
      );
    }, POLL_MS);
    t.unref();
    w.stop = () => clearInterval(t);
  }
}

/**
 * A FIDO2 family run by the agent: `load` builds it over a fresh set of keys for each request;
 * the keys whose PIN the agent now remembers are watched for removal.
 */
export function fido2AgentFamily(name: string, presence: Fido2Presence, load: (deps: AgentFamilyDeps) => AnyFamily | Promise<AnyFamily>): AgentFamily {
  const inner = kitAgentFamily(name, load);
  return {
    name,
    async unwrap(req, ctx) {
      const used: string[] = [];
      const r = await inner.unwrap(req, {
        ...ctx,
        device(id) {
          used.push(id);
          ctx.device(id);
        },
      });
      for (const id of new Set(used)) if (ctx.cache.has(id)) presence.watch(ctx.cache, id, id.slice(name.length + 1));
      return r;
    },
  };
}
