/**
 * The YubiKey plugin on the age plugin protocol: recipient-v1 and identity-v1 handlers over PC/SC.
 */
import type { Io } from '../../cli/io.ts';
import { hasTerminal } from '../../cli/prompt.ts';
import { runPlugin, type IdentityV1Handler, type RecipientV1Handler } from '../../age/plugin/server.ts';
import type { PluginUi } from '../../age/plugin/ui.ts';
import { lazyReaders, type CardReaders } from '../../transport/readers.ts';
import type { UnwrapEnvironment, YubiKeyUi } from './ui.ts';

function yubikeyUi(ui: PluginUi): YubiKeyUi {
  return { message: (t) => ui.message(t), confirm: (m, y, n) => ui.confirm(m, y, n), requestSecret: (p) => ui.requestSecret(p) };
}

export function environment(env: NodeJS.ProcessEnv, log?: (line: string) => void): UnwrapEnvironment {
  return {
    skipNotFound: env.AGE_PLUGIN_YUBIKEY_SKIP_NOT_FOUND === '1' || env.AGE_PLUGIN_YUBIKEY_SKIP_NOT_FOUND === 'true',
    // Checked only when a YubiKey is missing (opening /dev/tty is not free).
    interactive: hasTerminal,
    ...(log ? { log } : {}),
  };
}

export function handlers(openReaders: () => Promise<CardReaders>, env: UnwrapEnvironment): { recipient: RecipientV1Handler; identity: IdentityV1Handler } {
  const withReaders = async <T>(fn: (r: CardReaders) => Promise<T>): Promise<T> => {
    const readers = lazyReaders(openReaders);
    try {
      return await fn(readers);
    } finally {
      await readers.close();
    }
  };
  return {
    recipient: {
      async wrapFileKeys(req) {
        const { wrapFileKeys } = await import('./wrap.ts');
        const r = await withReaders((readers) =>
          wrapFileKeys({ recipients: req.recipients, identities: req.identities, fileKeys: req.fileKeys, ui: yubikeyUi(req.ui), readers }, env),
        );
        return { stanzas: r.stanzas, labels: r.labels, errors: r.errors };
      },
    },
    identity: {
      async unwrapFileKeys(req, send) {
        const { wrapFileKeys } = await import('./wrap.ts');
        if (req.identities.length === 0) return;
        const { unwrapFiles } = await import('./unwrap.ts');
        const r = await withReaders((readers) => unwrapFiles({ identities: req.identities, files: req.files, ui: yubikeyUi(req.ui), readers }, env));
        for (const [file, key] of [...r.fileKeys.entries()].sort(([a], [b]) => a - b)) await send.fileKey(file, key);
        for (const e of r.errors) {
          // A file that was decrypted after all needs no error (Go age aborts on any error).
          if (e.kind === 'stanza' && r.fileKeys.has(e.file)) continue;
          await send.error(e);
        }
      },
    },
  };
}

export async function runStateMachine(stateMachine: string, io: Io, openReaders: () => Promise<CardReaders>): Promise<number> {
  const debug = io.env.AGEDEBUG === 'plugin' ? (l: string) => io.stderr.write(`age-plugin-yubikey: ${l}\n`) : undefined;
  const h = handlers(openReaders, environment(io.env, debug));
  return runPlugin({ name: 'yubikey', stateMachine, stdin: io.stdin, stdout: io.stdout, stderr: io.stderr, recipient: h.recipient, identity: h.identity });
}
