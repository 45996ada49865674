/**
 * Start-up of the one-shot commands next to a bare `node -e 0`, measured in one run: the
 * commands are run in interleaved rounds (so a noisy neighbour hits all of them alike) and the
 * best wall time of each is compared with the best of `node -e 0`. Each runs as package.json
 * installs it. A plugin's recipient-v1 wraps one file key to a recipient (no card needed;
 * fido2prf, whose identities are symmetric, is given an identity and runs until its first key
 * access, with no key there); identity-v1 is given an identity and a stanza for it and runs until
 * its first card access, which finds no card here (no pcscd socket, no FIDO2 key), so the
 * plugin answers without a file key.
 *
 *   npx tsx bench/startup.ts [ROUNDS]     (default 15)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createECDH, randomBytes } from 'node:crypto';
import { encodeRecipient as yubikeyRecipient, recipientTag } from '../src/plugins/yubikey/recipient.ts';
import { encodeStub } from '../src/plugins/yubikey/stub.ts';
import { wrapPivP256 } from '../src/plugins/yubikey/pivP256.ts';
import { encodeRecipient as picohsmRecipient } from '../src/plugins/picohsm/recipient.ts';
import { deviceTag, encodeIdentity as picohsmIdentity, slotWord } from '../src/plugins/picohsm/identity.ts';
import { wrapPicoHsm } from '../src/plugins/picohsm/stanza.ts';
import { identityString as fido2HmacIdentity, recipientString as fido2HmacRecipient, recipientV2, wrapV2 } from '../src/plugins/fido2-hmac/format.ts';
import { identityString as fido2PrfIdentity, wrap as wrapFido2Prf } from '../src/plugins/fido2prf/format.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const FIX = join(ROOT, 'test', 'fixtures', 'ssh-to-age');
const ROUNDS = Number(process.argv[2] ?? 15);

const dir = mkdtempSync(join(tmpdir(), 'kb-bench-start-'));
const exportFile = join(dir, 'bitwarden.json');
writeFileSync(exportFile, JSON.stringify({ encrypted: false, items: [{ id: 'a', name: 'sops-bench-ssh', type: 5, sshKey: { publicKey: readFileSync(join(FIX, 'id_ed25519.pub'), 'utf8').trim(), privateKey: readFileSync(join(FIX, 'id_ed25519'), 'utf8') } }] }));
const pub = readFileSync(join(FIX, 'id_ed25519.pub'));

interface Case {
  name: string;
  args: string[];
  input?: Uint8Array | string;
  env?: NodeJS.ProcessEnv;
  /** Expected start of stdout (of stderr with `stderr`): a wrong answer is not a measurement. */
  expect: RegExp;
  stderr?: boolean;
  /** Speaks the age plugin protocol: `input` is phase 1, each request of the plugin is answered `ok`. */
  plugin?: boolean;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const bin = (name: string) => join(ROOT, pkg.bin[name]!);
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64').replace(/=+$/, '');
const fileKey = new Uint8Array(randomBytes(16));
interface WireStanza {
  type: string;
  args: string[];
  body: Uint8Array;
}
/** What age sends a plugin in phase 1. */
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
/** The first card access finds nothing: pcscd's socket is not there, the FIDO2 key is a closed port; absent devices are skipped. */
const noCard: NodeJS.ProcessEnv = {
  ...process.env,
  PCSCLITE_CSOCK_NAME: join(dir, 'no-pcscd.comm'),
  KEYBRIDGE_FIDO2_TCP: '127.0.0.1:1',
  AGE_PLUGIN_YUBIKEY_SKIP_NOT_FOUND: '1',
  AGE_PLUGIN_PICOHSM_SKIP_NOT_FOUND: '1',
  AGE_PLUGIN_FIDO2_HMAC_SKIP_NOT_FOUND: '1',
  AGE_PLUGIN_FIDO2PRF_SKIP_NOT_FOUND: '1',
};
const plugins: { name: string; version?: RegExp; helpOnStderr?: true; recipient: string; identity: string; stanza: WireStanza }[] = [
  { name: 'yubikey', version: /^age-plugin-yubikey /, recipient: `recipient ${yubikeyRecipient(compressed)}`, identity: encodeStub({ serial: 424242, slot: 0x82, tag: recipientTag(compressed) }), stanza: wrapPivP256(fileKey, compressed) },
  { name: 'picohsm', version: /^age-plugin-picohsm /, recipient: `recipient ${picohsmRecipient(uncompressed)}`, identity: picohsmIdentity({ slot: slotWord('p256', deviceTag('ESPH4242420')), keyId: Uint8Array.of(1), label: 'bench' }), stanza: wrapPicoHsm(fileKey, uncompressed) },
  { name: 'fido2-hmac', version: /^\d+\.\d+\.\d+ /, helpOnStderr: true, recipient: `recipient ${fido2HmacRecipient(hmacRecipient)}`, identity: fido2HmacIdentity({ version: 2, requirePin: false, salt, credentialId }), stanza: wrapV2(fileKey, hmacRecipient) },
  // no --version: its flags are the Go plugin's, which has none
  { name: 'fido2prf', helpOnStderr: true, recipient: `identity ${prfIdentity}`, identity: prfIdentity, stanza: prfStanza },
];

const cases: Case[] = [
  { name: 'node -e 0', args: ['-e', '0'], expect: /^$/ },
  { name: 'ssh-to-age < one public key', args: [bin('ssh-to-age')], input: pub, expect: /^age1/ },
  { name: 'ssh-to-age -private-key -i key', args: [bin('ssh-to-age'), '-private-key', '-i', join(FIX, 'id_ed25519')], expect: /^AGE-SECRET-KEY-1/ },
  { name: 'ssh-to-age -version', args: [bin('ssh-to-age'), '-version'], expect: /^1\.3\.0/ },
  { name: 'keybridge --version', args: [bin('keybridge'), '--version'], expect: /^keybridge / },
  { name: 'keybridge --help', args: [bin('keybridge'), '--help'], expect: /^keybridge / },
  { name: 'keybridge bw derive (export)', args: [bin('keybridge'), 'bw', 'derive', 'sops-bench-ssh', '--export', exportFile], expect: /^age1/ },
  { name: 'keybridge bw derive --identity', args: [bin('keybridge'), 'bw', 'derive', 'sops-bench-ssh', '--export', exportFile, '--identity'], expect: /^age1/ },
  ...plugins.flatMap((p): Case[] => {
    const exe = bin(`age-plugin-${p.name}`);
    return [
      ...(p.version ? [{ name: `age-plugin-${p.name} --version`, args: [exe, '--version'], expect: p.version }] : []),
      { name: `age-plugin-${p.name} --help`, args: [exe, '--help'], expect: /^Usage/, ...(p.helpOnStderr ? { stderr: true } : {}) },
      { name: `age-plugin-${p.name} recipient-v1`, args: [exe, '--age-plugin=recipient-v1'], input: recipientV1(p.recipient), env: noCard, plugin: true, expect: p.recipient.startsWith('identity') ? /^-> error identity 0/ : /^-> recipient-stanza 0 / },
      { name: `age-plugin-${p.name} identity-v1`, args: [exe, '--age-plugin=identity-v1'], input: identityV1(p.identity, p.stanza), env: noCard, plugin: true, expect: /^-> / },
    ];
  }),
];
function check(c: Case, status: number | null, stdout: string, stderr: string): void {
  if (status !== 0 || !c.expect.test(c.stderr ? stderr : stdout)) throw new Error(`${c.name} failed (exit ${status}): ${stdout.slice(0, 300)} ${stderr.slice(0, 300)}`);
}

/** The age client's side of phase 2: `ok` to every request, end of input after the plugin's `done`. */
function onePlugin(c: Case): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, c.args, { env: c.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
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
    child.on('close', (status) => {
      const wall = Number(process.hrtime.bigint() - start) / 1e6;
      try {
        check(c, status, out, err);
        resolve(wall);
      } catch (e) {
        reject(e);
      }
    });
    child.stdin.on('error', () => undefined);
    child.stdin.write(c.input ?? '');
  });
}

async function once(c: Case): Promise<number> {
  if (c.plugin) return onePlugin(c);
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, c.args, { input: c.input ?? new Uint8Array(0), env: c.env ?? process.env, maxBuffer: 1 << 20 });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  check(c, r.status, r.stdout.toString(), r.stderr.toString());
  return wall;
}

const best = new Map<string, number>(cases.map((c) => [c.name, Infinity]));
for (const c of cases) await once(c); // warm the page cache
for (let r = 0; r < ROUNDS; r++) for (const c of cases) best.set(c.name, Math.min(best.get(c.name)!, await once(c)));
const base = best.get('node -e 0')!;
console.log(`start-up, best wall time of ${ROUNDS} interleaved rounds, and the ratio to node -e 0`);
for (const c of cases) {
  const ms = best.get(c.name)!;
  console.log(`  ${c.name.padEnd(38)} ${ms.toFixed(1).padStart(6)} ms  ${(ms / base).toFixed(2)}×`);
}
