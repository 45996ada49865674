/**
 * typage (`age-encryption`) adapters for any installed age plugin: a `Recipient` for
 * `age1NAME1…` and an `Identity` for `AGE-PLUGIN-NAME-1…`, each running the plugin process
 * through the client side of the protocol. typage has no plugin support of its own.
 *
 *   e.addRecipient(pluginRecipient('age1yubikey1…'));
 *   d.addIdentity(pluginIdentity('AGE-PLUGIN-YUBIKEY-1…', await terminalUi()));
 */
import { Stanza, type Identity, type Recipient } from 'age-encryption';
import { nonInteractiveUi, pluginNameOf, runIdentityV1, runRecipientV1, type ClientOptions, type ClientUi } from './client.ts';

export function pluginRecipient(recipient: string, ui: ClientUi = nonInteractiveUi(), opts: ClientOptions = {}): Recipient {
  const name = pluginNameOf(recipient);
  return {
    async wrapFileKey(fileKey: Uint8Array): Promise<Stanza[]> {
      const { stanzas } = await runRecipientV1(name, { recipients: [recipient], identities: [], fileKeys: [fileKey] }, ui, opts);
      return stanzas[0]!.map((s) => new Stanza([s.type, ...s.args], s.body));
    },
  };
}

export function pluginIdentity(identity: string, ui: ClientUi = nonInteractiveUi(), opts: ClientOptions = {}): Identity {
  const name = pluginNameOf(identity);
  return {
    async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
      const files = [stanzas.map((s) => ({ type: s.args[0]!, args: s.args.slice(1), body: s.body }))];
      const [key] = await runIdentityV1(name, { identities: [identity], files }, ui, opts);
      return key ?? null;
    },
  };
}
