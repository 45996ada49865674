/**
 * Example secrets repos in the layouts people have, each consistent or with one realistic
 * mistake planted:
 * - `two-tier`: sops-nix with `&<user>-<host>` anchors (`&crs58-stibnite`), clan key.json users,
 *   Bitwarden items and a keys.txt written by `keybridge bw sync`;
 * - `clan-age`: clan's age backend: `clan.nix` recipients, machine keys with `key.age` +
 *   `.recipients` sidecars, shared and per-machine vars, and a machine whose private key lives in
 *   `sops/secrets/<m>-age.key`;
 * - `agenix`: `secrets/secrets.nix` with SSH user and host keys and `.age` files made by `age`.
 * Everything is really encrypted (age CLI, typage). The private material a test needs to apply
 * a fix (decrypting to re-encrypt) is written next to the repo, never inside it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { bech32 } from '@scure/base';
import { ageFile, ageKey, put, sopsYaml, sshKey, type ExampleKey } from './exampleRepo.ts';

export type Layout = 'two-tier' | 'clan-age' | 'agenix';

export const FAULTS: Record<Layout, readonly string[]> = {
  'two-tier': ['rotated-except-sops', 'stale-keys-txt', 'not-reencrypted', 'alias-without-anchor', 'bad-checksum', 'truncated-key', 'pq-mixed', 'changed-outside-rule', 'same-key-two-names'],
  'clan-age': ['admin-added', 'admin-rotated', 'machine-regenerated', 'plugin-without-recipient', 'machine-key-anchor', 'header-changed'],
  agenix: ['host-rekeyed', 'not-rekeyed', 'path-outside', 'changed-outside-rules'],
};

export interface LayoutRepo {
  root: string;
  layout: Layout;
  fault: string | null;
  /** Files beside the repo (never inside it). */
  keysTxt: string;
  bitwardenExport?: string;
  /** An age identity file that decrypts the files a fix re-encrypts (admin / user keys). */
  adminIdentities: string;
  /** Machine identities of the clan age backend (decrypt shared vars), by machine. */
  machineIdentities: Record<string, string>;
  /** SSH private key file of crs58 (decrypts agenix files). */
  sshIdentity?: string;
  /** Keys by name, for tests that apply fixes. */
  keys: Record<string, string>;
}

function beside(root: string, name: string, text: string): string {
  const p = join(root, '..', `${root.split('/').pop()}-${name}`);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
}

function bwItem(name: string, k: ExampleKey): object {
  return { object: 'item', id: name, type: 5, name, notes: null, sshKey: { privateKey: k.sshPrivate, publicKey: k.sshPublic.split(' ').slice(0, 2).join(' '), keyFingerprint: 'SHA256:x' } };
}

export async function buildLayoutRepo(root: string, layout: Layout, fault: string | null = null): Promise<LayoutRepo> {
  if (fault !== null && !FAULTS[layout].includes(fault)) throw new Error(`unknown fault ${fault} for ${layout}`);
  mkdirSync(root, { recursive: true });
  if (layout === 'two-tier') return twoTier(root, fault);
  if (layout === 'clan-age') return clanAge(root, fault);
  return agenix(root, fault);
}

async function twoTier(root: string, fault: string | null): Promise<LayoutRepo> {
  const f = (name: string) => fault === name;
  const crs58Old = sshKey('crs58@old');
  const crs58 = sshKey('crs58');
  const raquel = sshKey('raquel');
  const stibnite = sshKey('root@stibnite');
  const blackphos = sshKey('root@blackphos');
  const admin = await ageKey();
  const outsider = await ageKey();
  const pq = await generateHybridIdentity();
  const pqRecipient = await identityToRecipient(pq);
  // crs58's key was rotated: Bitwarden, clan and keys.txt have the new one; with the fault the
  // anchor still has the old one.
  const crs58Anchor = f('rotated-except-sops') ? crs58Old.recipient : crs58.recipient;
  // A typo in blackphos's anchor (one character changed: the Bech32 checksum fails).
  const typo = (r: string) => r.slice(0, 20) + (r[20] === 'q' ? 'p' : 'q') + r.slice(21);
  // Or the key cut short by one byte, re-encoded with a valid checksum (a wrong length, not a typo).
  const truncated = (r: string) => bech32.encode('age', bech32.toWords(bech32.fromWords(bech32.decode(r as `${string}1${string}`).words).slice(0, 31)), false);
  const blackphosAnchor = f('bad-checksum') ? typo(blackphos.recipient) : f('truncated-key') ? truncated(blackphos.recipient) : blackphos.recipient;
  put(
    root,
    '.sops.yaml',
    `keys:
  - &admin ${admin.recipient} # offline recovery key
  - &crs58-stibnite ${crs58Anchor}
  - &raquel-blackphos ${raquel.recipient}
  - &stibnite ${stibnite.recipient}
  - &blackphos ${blackphosAnchor}
creation_rules:
  - path_regex: secrets/hosts/stibnite/[^/]+\\.yaml$
    key_groups:
      - age: [*admin, *crs58-stibnite, *stibnite]
  - path_regex: secrets/hosts/blackphos/[^/]+\\.yaml$
    key_groups:
      - age: [*admin, *${f('alias-without-anchor') ? 'raquel-blackphoss' : 'raquel-blackphos'}, *blackphos]
  - path_regex: secrets/users/crs58/.*\\.yaml$
    key_groups:
      - age: [*crs58-stibnite${f('pq-mixed') ? `, ${pqRecipient}` : ''}]
  - path_regex: (secrets/shared\\.yaml$|secrets/services/.*\\.yaml$)
    key_groups:
      - age:
          - *admin
          - *crs58-stibnite
          - *raquel-blackphos
          - *stibnite
          - *blackphos
`,
  );
  const keyJson = (r: string) => JSON.stringify([{ publickey: r, type: 'age' }], null, 2);
  put(root, 'sops/users/crs58/key.json', keyJson(crs58.recipient));
  put(root, 'sops/users/raquel/key.json', keyJson(raquel.recipient));
  if (f('same-key-two-names')) put(root, 'sops/users/cameron/key.json', keyJson(crs58.recipient)); // one person, two Unix names
  put(root, 'sops/machines/stibnite/key.json', keyJson(stibnite.recipient));
  put(root, 'sops/machines/blackphos/key.json', keyJson(blackphos.recipient));
  const shared = [admin.recipient, crs58Anchor, raquel.recipient, stibnite.recipient, blackphos.recipient];
  put(root, 'secrets/hosts/stibnite/wifi.yaml', await sopsYaml({ psk: 'x' }, [admin.recipient, crs58Anchor, stibnite.recipient]));
  // blackphos was added to its host rule; with the fault the file was never re-encrypted for it.
  put(root, 'secrets/hosts/blackphos/wifi.yaml', await sopsYaml({ psk: 'y' }, [admin.recipient, raquel.recipient, ...(f('not-reencrypted') ? [] : [blackphos.recipient])]));
  put(root, 'secrets/users/crs58/signing-key.yaml', await sopsYaml({ key: 'z' }, [crs58Anchor]));
  // The reverse: a file whose recipients changed (a key nobody has was added) while its rule did not.
  put(root, 'secrets/shared.yaml', await sopsYaml({ api: 'k' }, [...shared, ...(f('changed-outside-rule') ? [outsider.recipient] : [])]));
  put(root, 'secrets/services/grafana.yaml', await sopsYaml({ pw: 'g' }, shared));
  const items = [bwItem('sops-crs58-ssh', crs58), bwItem('sops-raquel-ssh', raquel), bwItem('sops-stibnite-ssh', stibnite), bwItem('sops-blackphos-ssh', blackphos)];
  const bitwardenExport = beside(root, 'bitwarden.json', JSON.stringify({ encrypted: false, folders: [], items }, null, 2));
  // keys.txt as `keybridge bw sync` writes it for crs58 (the stale variant: from before the rotation).
  const { sshPrivateKeyToAgeIdentity } = await import('../ssh/identity.ts');
  const id = sshPrivateKeyToAgeIdentity((f('stale-keys-txt') ? crs58Old : crs58).sshPrivate);
  const keysTxt = beside(root, 'keys.txt', `# keybridge: Bitwarden item sops-crs58-ssh\n# public key: ${id.recipient}\n${id.identity}\n`);
  const adminIdentities = beside(root, 'admin-identities.txt', `${admin.identity}\n`);
  return { root, layout: 'two-tier', fault, keysTxt, bitwardenExport, adminIdentities, machineIdentities: {}, keys: { crs58: crs58.recipient, crs58Old: crs58Old.recipient, raquel: raquel.recipient, stibnite: stibnite.recipient, blackphos: blackphos.recipient, admin: admin.recipient, outsider: outsider.recipient, pq: pqRecipient } };
}

async function clanAge(root: string, fault: string | null): Promise<LayoutRepo> {
  const f = (name: string) => fault === name;
  // The age backend's admin key (bound as `admin` in clan.nix) and crs58's sops-backend user key.
  const crs58 = await ageKey();
  const crs58New = await ageKey();
  const crs58Sops = await ageKey();
  const raquel = await ageKey();
  const machines = { cinnabar: await ageKey(), electrum: await ageKey(), galena: await ageKey() };
  const galenaNew = await ageKey();
  const pyrite = await ageKey();
  const wrongPyrite = await ageKey();
  const intruder = await ageKey();
  // clan.nix: admins crs58 (and raquel by default); galena only crs58. Faults: raquel added to
  // the default without `clan vars fix`; crs58's key rotated in clan.nix only.
  const crs58InNix = f('admin-rotated') ? crs58New : crs58;
  const defaults = f('admin-added') ? ['admin', 'raquel'] : ['admin'];
  put(
    root,
    'clan.nix',
    `{ self, inputs, ... }:
let
  admin = "${crs58InNix.recipient}";
  raquel = "${raquel.recipient}";
in
{
  meta.name = "example";
  vars.settings.secretStore = "age";
  vars.settings.recipients.default = [ ${defaults.join(' ')} ];
  vars.settings.recipients.hosts.galena = [ admin ];
  inventory.machines = {
    cinnabar = { deploy.targetHost = "root@cinnabar"; };
    electrum = { };
    galena = { };
  };
}
`,
  );
  const admins = [crs58.recipient].sort();
  const pubs: Record<string, string> = {};
  for (const [m, k] of Object.entries(machines)) {
    // galena's key was regenerated; with the fault the shared var below still lists the old pub.
    const key = m === 'galena' && f('machine-regenerated') ? galenaNew : k;
    pubs[m] = key.recipient;
    put(root, `secrets/age-keys/machines/${m}/pub`, key.recipient);
    const extra = m === 'electrum' && f('header-changed') ? [intruder.recipient] : [];
    put(root, `secrets/age-keys/machines/${m}/key.age`, ageFile([...admins, ...extra], `# created: 2026-01-01\n# public key: ${key.recipient}\n${key.identity}\n`));
    put(root, `secrets/age-keys/machines/${m}/key.age.recipients`, admins.join('\n') + '\n');
  }
  // A shared deployed var: encrypted to every machine's pub, listed in its sidecar.
  const sharedTo = Object.entries(machines).map(([, k]) => k.recipient).sort(); // the old galena pub when regenerated
  put(root, 'secrets/clan-vars/shared/wifi/psk/psk.age', ageFile(sharedTo, 'wifi-psk'));
  put(root, 'secrets/clan-vars/shared/wifi/psk/psk.age.recipients', sharedTo.join('\n') + '\n');
  put(root, 'secrets/clan-vars/per-machine/cinnabar/openssh/ssh.id_ed25519/ssh.id_ed25519.age', ageFile([pubs.cinnabar!], 'ssh-key'));
  put(root, 'secrets/clan-vars/per-machine/cinnabar/openssh/ssh.id_ed25519/ssh.id_ed25519.age.recipients', pubs.cinnabar + '\n');
  // pyrite uses clan's sops backend: key.json is the public half of sops/secrets/pyrite-age.key.
  put(root, 'sops/users/crs58/key.json', JSON.stringify([{ publickey: crs58Sops.recipient, type: 'age' }], null, 2));
  put(root, 'sops/machines/pyrite/key.json', JSON.stringify([{ publickey: pyrite.recipient, type: 'age' }], null, 2));
  const { sopsJson, link } = await import('./exampleRepo.ts');
  put(root, 'sops/secrets/pyrite-age.key/secret', await sopsJson([crs58Sops.recipient]));
  link(root, 'sops/secrets/pyrite-age.key/users/crs58', '../../../users/crs58');
  const pyriteAnchor = f('machine-key-anchor') ? wrongPyrite.recipient : pyrite.recipient;
  put(root, '.sops.yaml', `keys:\n  - &crs58 ${crs58Sops.recipient}\n  - &pyrite ${pyriteAnchor}\ncreation_rules:\n  - path_regex: secrets/hosts/pyrite/.*\\.yaml$\n    key_groups:\n      - age: [*crs58, *pyrite]\n`);
  put(root, 'secrets/hosts/pyrite/db.yaml', await sopsYaml({ pw: 'p' }, [crs58Sops.recipient, pyriteAnchor]));
  let keys = `# created: 2026-01-01T00:00:00Z\n# public key: ${crs58InNix.recipient}\n${crs58InNix.identity}\n`;
  if (f('admin-rotated')) keys += `\n# public key: ${crs58.recipient}\n${crs58.identity}\n`; // the old key is still at hand
  if (f('plugin-without-recipient')) keys += `\n#       Serial: 12345678, Slot: 1\nAGE-PLUGIN-YUBIKEY-1FESMCQYZQWK0A6QMMP3FW\n`;
  const keysTxt = beside(root, 'keys.txt', keys);
  const adminIdentities = beside(root, 'admin-identities.txt', [crs58.identity, crs58New.identity, raquel.identity].join('\n') + '\n');
  const machineIdentities: Record<string, string> = {};
  for (const [m, k] of Object.entries(machines)) machineIdentities[m] = beside(root, `${m}-identity.txt`, k.identity + '\n');
  machineIdentities['galena-new'] = beside(root, 'galena-new-identity.txt', galenaNew.identity + '\n');
  return { root, layout: 'clan-age', fault, keysTxt, adminIdentities, machineIdentities, keys: { admin: crs58.recipient, adminNew: crs58New.recipient, crs58: crs58Sops.recipient, raquel: raquel.recipient, pyrite: pyrite.recipient, ...pubs } };
}

async function agenix(root: string, fault: string | null): Promise<LayoutRepo> {
  const f = (name: string) => fault === name;
  const crs58 = sshKey('crs58');
  const raquel = sshKey('raquel');
  const galenaOld = sshKey('root@galena');
  const galena = sshKey('root@galena');
  const cinnabar = sshKey('root@cinnabar');
  const stranger = sshKey('someone@elsewhere');
  // galena was re-installed: its host key is new; with the fault secrets.nix still has the old one.
  const galenaInNix = f('host-rekeyed') ? galenaOld : galena;
  const smtpKeys = f('not-rekeyed') ? [crs58, raquel, cinnabar] : [crs58, cinnabar];
  put(
    root,
    'secrets/secrets.nix',
    `let
  crs58 = "${crs58.sshPublic}";
  raquel = "${raquel.sshPublic}";
  galena = "${galenaInNix.sshPublic}";
  cinnabar = "${cinnabar.sshPublic}";
  users = [ crs58 raquel ];
in
{
  "restic.age".publicKeys = users ++ [ galena ];
  "smtp.age".publicKeys = [ ${smtpKeys.map((k) => (k === raquel ? 'raquel' : k === crs58 ? 'crs58' : 'cinnabar')).join(' ')} ];
${f('path-outside') ? '  "../../outside.age".publicKeys = users;\n' : ''}}
`,
  );
  put(root, 'secrets/restic.age', ageFile([crs58.sshPublic, raquel.sshPublic, galenaInNix.sshPublic, ...(f('changed-outside-rules') ? [stranger.sshPublic] : [])], 'restic'));
  // raquel was added to smtp.age's publicKeys; with the fault `agenix -r` was not run.
  put(root, 'secrets/smtp.age', ageFile([crs58.sshPublic, cinnabar.sshPublic], 'smtp', true));
  put(root, 'hosts/galena/ssh_host_ed25519_key.pub', galena.sshPublic + '\n');
  put(root, 'hosts/cinnabar/ssh_host_ed25519_key.pub', cinnabar.sshPublic + '\n');
  if (f('path-outside')) writeFileSync(join(root, '..', 'outside.age'), ageFile([crs58.sshPublic], 'outside'));
  const sshIdentity = beside(root, 'crs58-ssh-key', crs58.sshPrivate);
  const keysTxt = beside(root, 'keys.txt', '');
  return { root, layout: 'agenix', fault, keysTxt, adminIdentities: sshIdentity, machineIdentities: {}, sshIdentity, keys: { crs58: crs58.sshPublic, galena: galena.sshPublic, galenaOld: galenaOld.sshPublic } };
}
