/**
 * What age sends each plugin of this package for one file key, without a card: a recipient-v1
 * wrap to a recipient (fido2prf, whose identities are symmetric: an identity, which fails at its
 * first key access) and an identity-v1 request for a stanza that needs the card, with an
 * environment where the first card access finds nothing. The start-up benchmark times these; the
 * build runs them to make the plugins' code caches.
 */
import { spawn } from 'node:child_process';
import { createECDH, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { encodeRecipient as yubikeyRecipient, recipientTag } from '../src/plugins/yubikey/recipient.ts';
import { encodeStub } from '../src/plugins/yubikey/stub.ts';
import { wrapPivP256 } from '../src/plugins/yubikey/pivP256.ts';
import { encodeRecipient as picohsmRecipient } from '../src/plugins/picohsm/recipient.ts';
import { deviceTag, encodeIdentity as picohsmIdentity, slotWord } from '../src/plugins/picohsm/identity.ts';
import { wrapPicoHsm } from '../src/plugins/picohsm/stanza.ts';
import { identityString as fido2HmacIdentity, recipientString as fido2HmacRecipient, recipientV2, wrapV2 } from '../src/plugins/fido2-hmac/format.ts';
import { identityString as fido2PrfIdentity, wrap as wrapFido2Prf } from '../src/plugins/fido2prf/format.ts';

interface WireStanza {
  type: string;
  args: string[];
  body: Uint8Array;
}
export interface PluginRequests {
  name: string;
  /** The `--version` output's start (fido2prf has no --version: its flags are the Go plugin's). */
  version?: RegExp;
  helpOnStderr?: true;
  /** Phase 1 of recipient-v1 and identity-v1, and the start of the plugin's right answer. */
  recipientV1: string;
  recipientReply: RegExp;
  identityV1: string;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64').replace(/=+$/, '');

export async function pluginRequests(): Promise<PluginRequests[]> {
  const fileKey = new Uint8Array(randomBytes(16));
  const recipientV1 = (add: string) => `-> add-${add}\n\n-> wrap-file-key\n${b64(fileKey)}\n-> done\n\n`;
  const identityV1 = (identity: string, st: WireStanza) => `-> add-identity ${identity}\n\n-> recipient-stanza 0 ${[st.type, ...st.args].join(' ')}\n${b64(st.body)}\n-> done\n\n`;
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const compressed = new Uint8Array(ecdh.getPublicKey(null, 'compressed'));
  const uncompressed = new Uint8Array(ecdh.getPublicKey());
  const salt = new Uint8Array(randomBytes(32));
  const credentialId = new Uint8Array(randomBytes(64));
  const hmacRecipient = recipientV2(new Uint8Array(randomBytes(32)), false, salt, credentialId);
  const prfIdentity = fido2PrfIdentity({ credentialId, rpId: 'example.com', transports: ['usb'] });
  const prfStanza = await wrapFido2Prf(fileKey, async () => [new Uint8Array(32), new Uint8Array(32)]);
  const stanza = /^-> recipient-stanza 0 /;
  return [
    { name: 'yubikey', version: /^age-plugin-yubikey /, recipientV1: recipientV1(`recipient ${yubikeyRecipient(compressed)}`), recipientReply: stanza, identityV1: identityV1(encodeStub({ serial: 424242, slot: 0x82, tag: recipientTag(compressed) }), wrapPivP256(fileKey, compressed)) },
    { name: 'picohsm', version: /^age-plugin-picohsm /, recipientV1: recipientV1(`recipient ${picohsmRecipient(uncompressed)}`), recipientReply: stanza, identityV1: identityV1(picohsmIdentity({ slot: slotWord('p256', deviceTag('ESPH4242420')), keyId: Uint8Array.of(1), label: 'bench' }), wrapPicoHsm(fileKey, uncompressed)) },
    { name: 'fido2-hmac', version: /^\d+\.\d+\.\d+ /, helpOnStderr: true, recipientV1: recipientV1(`recipient ${fido2HmacRecipient(hmacRecipient)}`), recipientReply: stanza, identityV1: identityV1(fido2HmacIdentity({ version: 2, requirePin: false, salt, credentialId }), wrapV2(fileKey, hmacRecipient)) },
    { name: 'fido2prf', helpOnStderr: true, recipientV1: recipientV1(`identity ${prfIdentity}`), recipientReply: /^-> error identity 0/, identityV1: identityV1(prfIdentity, prfStanza) },
  ];
}

/** An environment where the first card access finds nothing: pcscd's socket is not there, the FIDO2 key is a closed port; absent devices are skipped. */
export function noCardEnv(dir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PCSCLITE_CSOCK_NAME: join(dir, 'no-pcscd.comm'),
    KEYBRIDGE_FIDO2_TCP: '127.0.0.1:1',
    AGE_PLUGIN_YUBIKEY_SKIP_NOT_FOUND: '1',
    AGE_PLUGIN_PICOHSM_SKIP_NOT_FOUND: '1',
    AGE_PLUGIN_FIDO2_HMAC_SKIP_NOT_FOUND: '1',
    AGE_PLUGIN_FIDO2PRF_SKIP_NOT_FOUND: '1',
  };
}

/**
 * Runs `args` with node as age runs a plugin: `input` is phase 1, each request of the plugin is
 * answered `ok`, end of input after the plugin's `done`. Resolves with the exit status, the
 * outputs and the wall time in ms. `prefix` runs node under another program (valgrind).
 */
export function runPlugin(args: string[], input: string, env: NodeJS.ProcessEnv, prefix: string[] = []): Promise<{ status: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const [command, ...rest] = [...prefix, process.execPath, ...args];
    const child = spawn(command!, rest, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let seen = 0;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      // a stanza ends with its body's last line, which is shorter than 64 characters
      const complete = out.match(/^-> .*\n(?:[A-Za-z0-9+/]{64}\n)*[A-Za-z0-9+/]{0,63}\n/gm) ?? [];
      for (; seen < complete.length; seen++) {
        if (complete[seen]!.startsWith('-> done')) child.stdin.end();
        else child.stdin.write('-> ok\n\n');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: out, stderr: err, ms: Number(process.hrtime.bigint() - start) / 1e6 }));
    child.stdin.on('error', () => undefined);
    child.stdin.write(input);
  });
}
