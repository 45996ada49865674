/**
 * Makes the V8 code caches of the one-shot commands' bundles (dist/lib/ssh-to-age.cjs.cache,
 * dist/lib/keybridge-bw.cjs.cache, dist/lib/keybridge-ssh-to-age.cjs.cache), run by
 * scripts/build.mjs with the node that builds: each command converts a fresh Ed25519 key as
 * people run it, and its loader writes the cache of each file it loaded to the directory given in
 * KEYBRIDGE_CODE_CACHE_OUT when the process exits. The private-key runs print the recipient too
 * (-json, --identity); ssh-to-age then converts a public key on stdin, starting from that cache,
 * so its cache also holds the streamed public-key path (what one key on stdin runs).
 *
 *   node build/commandcache.mjs DIST
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = process.argv[2]!;

/** SSH wire string (RFC 4251 §5). */
function sshString(b: Uint8Array | string): Buffer {
  const bytes = typeof b === 'string' ? Buffer.from(b, 'latin1') : Buffer.from(b);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** A fresh Ed25519 key as ssh-keygen writes it: the public key line and the unencrypted OpenSSH private key (PROTOCOL.key). */
function openSshKey(): { publicLine: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  const check = randomBytes(4);
  let section = Buffer.concat([check, check, sshString('ssh-ed25519'), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString('build')]);
  const pad = (8 - (section.length % 8)) % 8;
  section = Buffer.concat([section, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0', 'latin1'), sshString('none'), sshString('none'), sshString(''), Buffer.from([0, 0, 0, 1]), sshString(blob), sshString(section)]);
  const lines = body.toString('base64').match(/.{1,70}/g)!;
  return { publicLine: `ssh-ed25519 ${blob.toString('base64')} build`, privatePem: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n` };
}

const dir = mkdtempSync(join(tmpdir(), 'kb-commandcache-'));
try {
  const key = openSshKey();
  const keyFile = join(dir, 'id_ed25519');
  writeFileSync(keyFile, key.privatePem, { mode: 0o600 });
  const exportFile = join(dir, 'bitwarden.json');
  writeFileSync(exportFile, JSON.stringify({ encrypted: false, items: [{ id: 'build', name: 'build-ssh', type: 5, sshKey: { publicKey: key.publicLine, privateKey: key.privatePem } }] }), { mode: 0o600 });
  const pairJson = /^\{"identity":"AGE-SECRET-KEY-1[0-9A-Z]+","recipient":"age1[0-9a-z]+"\}\n$/;
  // A run starts from the cache the run before it wrote, and writes what it compiled on top:
  // ssh-to-age's cache holds the private-key conversion and then the streamed public-key one.
  const runs: { cache: string; args: string[]; input?: string; expect: RegExp }[] = [
    { cache: 'ssh-to-age.cjs.cache', args: [join(dist, 'ssh-to-age.cjs'), '-private-key', '-json', '-i', keyFile], expect: pairJson },
    { cache: 'ssh-to-age.cjs.cache', args: [join(dist, 'ssh-to-age.cjs')], input: `${key.publicLine}\n`, expect: /^age1[0-9a-z]+\n$/ },
    { cache: 'keybridge-bw.cjs.cache', args: [join(dist, 'keybridge.cjs'), 'bw', 'derive', 'build-ssh', '--export', exportFile, '--identity'], expect: /^age1[0-9a-z]+\nAGE-SECRET-KEY-1[0-9A-Z]+\n$/ },
    { cache: 'keybridge-ssh-to-age.cjs.cache', args: [join(dist, 'keybridge.cjs'), 'ssh-to-age', '-private-key', '-json', '-i', keyFile], expect: pairJson },
    { cache: 'keybridge-ssh-to-age.cjs.cache', args: [join(dist, 'keybridge.cjs'), 'ssh-to-age'], input: `${key.publicLine}\n`, expect: /^age1[0-9a-z]+\n$/ },
  ];
  for (const run of runs) {
    const r = spawnSync(process.execPath, run.args, { env: { ...process.env, KEYBRIDGE_CODE_CACHE_OUT: join(dist, 'lib') }, encoding: 'utf8', input: run.input ?? '' });
    if (r.status !== 0 || !run.expect.test(r.stdout)) throw new Error(`${run.args.slice(1, 3).join(' ')} failed (exit ${r.status}): ${r.stderr.slice(0, 300)}`);
    if (!existsSync(join(dist, 'lib', run.cache))) throw new Error(`${run.args.slice(1, 3).join(' ')} wrote no ${run.cache}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
