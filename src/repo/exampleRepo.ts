/**
 * Builds an example secrets repository shaped like a real clan + sops-nix + agenix repo: users and
 * machines with clan key.json files, a `.sops.yaml` with anchors and creation rules, sops files
 * whose data keys are really age-encrypted to their recipients, clan secrets with recipient links,
 * an agenix `secrets.nix` with `.age` files encrypted by typage, SSH host keys, a workstation
 * keys.txt and a Bitwarden export. With `faults`, one deliberate fault of each kind is planted
 * (listed in `faults` of the result). Used by `keybridge demo` and the validation tests.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sshpk from 'sshpk';
import { armor, Encrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { sshPublicKeyToAgeRecipient } from '../ssh/lines.ts';

export interface ExampleKey {
  sshPublic: string;
  sshPrivate: string;
  recipient: string;
}

export interface ExampleRepo {
  root: string;
  keysTxt: string;
  bitwardenExport: string;
  /** The faults planted, as (kind, subject) pairs the validator must report — and nothing else. */
  faults: { kind: string; subject: string }[];
}

export function sshKey(comment: string): ExampleKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const k = sshpk.parsePrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'pem');
  k.comment = comment;
  const sshPublic = k.toPublic().toString('ssh');
  return { sshPublic, sshPrivate: k.toString('ssh-private'), recipient: sshPublicKeyToAgeRecipient(sshPublic) };
}

export async function ageKey(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateIdentity();
  return { identity, recipient: await identityToRecipient(identity) };
}

export function put(root: string, rel: string, data: string | Uint8Array, mode?: number): void {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, data, mode ? { mode } : {});
}

export function link(root: string, rel: string, target: string): void {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  symlinkSync(target, p);
}

/** A sops-shaped file whose data key is age-encrypted (armored) to each recipient, as sops does. */
export async function sopsYaml(values: Record<string, string>, recipients: string[]): Promise<string> {
  const dataKey = randomBytes(32);
  const entries: string[] = [];
  for (const r of recipients) {
    const e = new Encrypter();
    e.addRecipient(r);
    const armored = armor.encode(await e.encrypt(dataKey));
    entries.push(`        - recipient: ${r}\n          enc: |\n${armored.trimEnd().split('\n').map((l) => `            ${l}`).join('\n')}`);
  }
  const enc = (v: string) => `ENC[AES256_GCM,data:${randomBytes(v.length).toString('base64')},iv:${randomBytes(32).toString('base64')},tag:${randomBytes(16).toString('base64')},type:str]`;
  return (
    Object.entries(values).map(([k, v]) => `${k}: ${enc(v)}`).join('\n') +
    `\nsops:\n    age:\n${entries.join('\n')}\n    lastmodified: "${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}"\n    mac: ${enc('mac')}\n    unencrypted_suffix: _unencrypted\n    version: 3.9.4\n`
  );
}

export async function sopsJson(recipients: string[]): Promise<string> {
  const dataKey = randomBytes(32);
  const age = [];
  for (const r of recipients) {
    const e = new Encrypter();
    e.addRecipient(r);
    age.push({ recipient: r, enc: armor.encode(await e.encrypt(dataKey)) });
  }
  return JSON.stringify({ data: `ENC[AES256_GCM,data:${randomBytes(24).toString('base64')},iv:x,tag:y,type:str]`, sops: { age, lastmodified: '2026-01-01T00:00:00Z', mac: 'ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]', version: '3.9.4' } }, null, 2);
}

/** Encrypts like agenix does: the real `age` CLI with `-r` per key (ssh-ed25519 stanzas for SSH keys). */
export function ageFile(recipients: string[], text: string, armored = false): Uint8Array {
  const args = recipients.flatMap((r) => ['-r', r]);
  try {
    return new Uint8Array(execFileSync('age', [...(armored ? ['-a'] : []), ...args], { input: text, stdio: ['pipe', 'pipe', 'pipe'] }));
  } catch (e) {
    throw new Error((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'the example repo needs the age CLI (apt-get install age)' : `age failed: ${String((e as { stderr?: unknown }).stderr ?? e)}`);
  }
}

export async function buildExampleRepo(root: string, opts: { faults: boolean }): Promise<ExampleRepo> {
  const faults: ExampleRepo['faults'] = [];
  const f = opts.faults;
  // Users (Bitwarden SSH keys → age) and machines (clan-generated age keys, plus SSH host keys).
  const crs58 = sshKey('crs58');
  const raquel = sshKey('raquel');
  const raquelOld = sshKey('raquel-old');
  const stibnite = sshKey('root@stibnite');
  const cinnabar = await ageKey();
  const electrum = await ageKey();
  const stibniteClan = await ageKey();
  const galenaHost = sshKey('root@galena');
  const galenaHostOld = sshKey('root@galena-old');
  const cinnabarHost = sshKey('root@cinnabar');
  const staleWorkstationKey = await ageKey();
  const raquelOlder = sshKey('raquel-2024');

  // clan tree
  const keyJson = (r: string) => JSON.stringify([{ publickey: r, type: 'age' }], null, 2);
  put(root, 'sops/users/crs58/key.json', keyJson(crs58.recipient));
  put(root, 'sops/users/raquel/key.json', keyJson(raquel.recipient));
  put(root, 'sops/machines/cinnabar/key.json', keyJson(cinnabar.recipient));
  put(root, 'sops/machines/electrum/key.json', keyJson(electrum.recipient));
  // Fault: stibnite's clan key is a different family from the Bitwarden-derived anchor.
  put(root, 'sops/machines/stibnite/key.json', keyJson(f ? stibniteClan.recipient : stibnite.recipient));
  if (f) faults.push({ kind: 'mismatch', subject: 'stibnite' });
  // Fault: a key.json without "type" (clan-core rejects it).
  if (f) {
    put(root, 'sops/machines/pyrite/key.json', JSON.stringify({ publickey: (await ageKey()).recipient }));
    faults.push({ kind: 'unreadable', subject: 'sops/machines/pyrite/key.json' });
  }

  // .sops.yaml with anchors and creation rules.
  const raquelAnchor = f ? raquelOld.recipient : raquel.recipient;
  if (f) faults.push({ kind: 'mismatch', subject: 'raquel' });
  put(
    root,
    '.sops.yaml',
    `keys:
  - &admin-user ${crs58.recipient} # crs58, from Bitwarden sops-crs58-ssh
  - &raquel-user ${raquelAnchor}
  - &stibnite ${stibnite.recipient}
  - &cinnabar ${cinnabar.recipient} # clan vars
  - &electrum ${electrum.recipient}
creation_rules:
  - path_regex: secrets/users/crs58/[^/]+\\.yaml$
    key_groups:
      - age:
          - *admin-user
  - path_regex: secrets/hosts/stibnite/[^/]+\\.yaml$
    key_groups:
      - age: [*admin-user, *stibnite]
  - path_regex: (secrets/shared\\.yaml$|secrets/services/.*\\.yaml$)
    key_groups:
      - age:
          - *admin-user
          - *raquel-user
          - *cinnabar
          - *electrum
  - path_regex: secrets/upstream/.*
    age: >-
      age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep,
      age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw
`,
  );
  put(root, '.keybridge.yaml', '# names that do not follow the conventions\naliases:\n  admin-user: crs58\n');

  // sops files, really age-encrypted to their rule's recipients.
  put(root, 'secrets/users/crs58/signing-key.yaml', await sopsYaml({ key: 'x' }, [crs58.recipient]));
  put(root, 'secrets/hosts/stibnite/wifi.yaml', await sopsYaml({ psk: 'y' }, [crs58.recipient, stibnite.recipient]));
  put(root, 'secrets/services/grafana.yaml', await sopsYaml({ admin_password: 'z' }, [crs58.recipient, raquelAnchor, cinnabar.recipient, electrum.recipient]));
  // Fault: electrum was added to the rule but shared.yaml was never re-encrypted.
  const sharedRecipients = [crs58.recipient, raquelAnchor, cinnabar.recipient, ...(f ? [] : [electrum.recipient])];
  put(root, 'secrets/shared.yaml', await sopsYaml({ api_key: 'k' }, sharedRecipients));
  if (f) faults.push({ kind: 'recipients', subject: 'secrets/shared.yaml' });

  // clan secrets with recipient links.
  put(root, 'sops/secrets/hetzner-api-token/secret', await sopsJson([crs58.recipient, cinnabar.recipient]));
  link(root, 'sops/secrets/hetzner-api-token/users/crs58', '../../../users/crs58');
  link(root, 'sops/secrets/hetzner-api-token/machines/cinnabar', '../../../machines/cinnabar');
  // Fault: raquel was linked to the secret but it was not re-encrypted for her.
  put(root, 'sops/secrets/tf-passphrase/secret', await sopsJson(f ? [crs58.recipient] : [crs58.recipient, raquel.recipient]));
  link(root, 'sops/secrets/tf-passphrase/users/crs58', '../../../users/crs58');
  link(root, 'sops/secrets/tf-passphrase/users/raquel', '../../../users/raquel');
  if (f) faults.push({ kind: 'recipients', subject: 'sops/secrets/tf-passphrase/secret' });
  put(root, 'vars/per-machine/electrum/openssh/ssh.id_ed25519/secret', await sopsJson([electrum.recipient, crs58.recipient]));
  link(root, 'vars/per-machine/electrum/openssh/ssh.id_ed25519/machines/electrum', '../../../../../../sops/machines/electrum');
  link(root, 'vars/per-machine/electrum/openssh/ssh.id_ed25519/users/crs58', '../../../../../../sops/users/crs58');

  // agenix
  // Fault: galena was re-keyed (its host key file is new); secrets.nix still has the old key.
  const galenaInNix = f ? galenaHostOld : galenaHost;
  put(
    root,
    'secrets.nix',
    `let
  crs58 = "${crs58.sshPublic}";
  raquel = "${raquel.sshPublic}";
  galena = "${galenaInNix.sshPublic}";
  cinnabar = "${cinnabarHost.sshPublic}";
  users = [ crs58 raquel ];
in
{
  "agenix/restic-password.age".publicKeys = users ++ [ galena ];
  "agenix/smtp.age".publicKeys = [ crs58 cinnabar ];
  "agenix/wireguard.age" = { publicKeys = users ++ [ cinnabar ]; armor = true; };
}
`,
  );
  put(root, 'agenix/restic-password.age', ageFile([crs58.sshPublic, raquel.sshPublic, galenaInNix.sshPublic], 'restic'));
  put(root, 'agenix/smtp.age', ageFile([crs58.sshPublic, cinnabarHost.sshPublic], 'smtp'));
  // Fault: raquel was added to wireguard.age's publicKeys but `agenix -r` was not run.
  put(root, 'agenix/wireguard.age', ageFile(f ? [crs58.sshPublic, cinnabarHost.sshPublic] : [crs58.sshPublic, raquel.sshPublic, cinnabarHost.sshPublic], 'wg', true));
  if (f) faults.push({ kind: 'recipients', subject: 'agenix/wireguard.age' });

  // clan age backend for electrum: machine public key, its private key encrypted to the admins,
  // and the sidecar listing those recipients. Fault: raquel was added to the recipients, the key
  // file was not re-encrypted.
  put(root, 'secrets/age-keys/machines/electrum/pub', electrum.recipient);
  put(root, 'secrets/age-keys/machines/electrum/key.age', ageFile([crs58.recipient, ...(f ? [] : [raquel.recipient])], electrum.identity + '\n'));
  put(root, 'secrets/age-keys/machines/electrum/key.age.recipients', [crs58.recipient, raquel.recipient].sort().join('\n') + '\n');
  if (f) faults.push({ kind: 'recipients', subject: 'secrets/age-keys/machines/electrum/key.age' });

  // SSH host keys.
  put(root, 'hosts/galena/ssh_host_ed25519_key.pub', galenaHost.sshPublic + '\n');
  if (f) faults.push({ kind: 'mismatch', subject: 'galena' });
  put(root, 'hosts/cinnabar/ssh_host_ed25519_key.pub', cinnabarHost.sshPublic + '\n');

  // Workstation keys.txt of crs58 (identity derived from the Bitwarden SSH key, as bw sync writes it).
  const { sshPrivateKeyToAgeIdentity } = await import('../ssh/identity.ts');
  const crs58Identity = sshPrivateKeyToAgeIdentity(crs58.sshPrivate);
  let keys = `# keybridge: Bitwarden item sops-crs58-ssh\n# public key: ${crs58Identity.recipient}\n${crs58Identity.identity}\n`;
  // An identity for something else (another repo): not this repo's business.
  keys += `\n# created: 2024-01-01T00:00:00Z\n# public key: ${staleWorkstationKey.recipient}\n${staleWorkstationKey.identity}\n`;
  if (f) {
    // Fault: raquel's key was rotated in Bitwarden; this keys.txt still holds the old one.
    const old = sshPrivateKeyToAgeIdentity(raquelOlder.sshPrivate);
    keys += `\n# keybridge: Bitwarden item sops-raquel-ssh\n# public key: ${old.recipient}\n${old.identity}\n`;
    faults.push({ kind: 'stale', subject: 'keys.txt' });
  }
  const keysTxt = join(root, '..', `${root.split('/').pop()}-keys.txt`);
  writeFileSync(keysTxt, keys, { mode: 0o600 });

  // Bitwarden export: SSH-key items (type 5) and one in the older login/notes convention.
  const item = (name: string, k: ExampleKey, legacy = false) =>
    legacy
      ? { object: 'item', id: randomBytes(16).toString('hex'), type: 1, name, notes: k.sshPrivate, login: { username: 'root', password: k.sshPublic } }
      : { object: 'item', id: randomBytes(16).toString('hex'), type: 5, name, notes: null, sshKey: { privateKey: k.sshPrivate, publicKey: k.sshPublic.split(' ').slice(0, 2).join(' '), keyFingerprint: 'SHA256:x' } };
  const items: object[] = [item('sops-crs58-ssh', crs58), item('sops-raquel-ssh', raquel), item('sops-stibnite-ssh', stibnite, true)];
  if (f) {
    // Fault: an item holding an RSA key (cannot become an age key).
    const rsa = sshpk.parsePrivateKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'pem');
    items.push({ object: 'item', id: randomBytes(16).toString('hex'), type: 5, name: 'sops-legacy-ssh', sshKey: { privateKey: rsa.toString('ssh-private'), publicKey: rsa.toPublic().toString('ssh'), keyFingerprint: 'SHA256:y' } });
    faults.push({ kind: 'unreadable', subject: 'legacy' });
  }
  const bitwardenExport = join(root, '..', `${root.split('/').pop()}-bitwarden.json`);
  writeFileSync(bitwardenExport, JSON.stringify({ encrypted: false, folders: [], items }, null, 2), { mode: 0o600 });
  return { root, keysTxt, bitwardenExport, faults };
}
