/**
 * Correspondence validation: every user and host has the same key in every context of a secrets
 * repo, and every encrypted file is encrypted to exactly the recipients its rule names.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { BitwardenSource } from '../bitwarden/source.ts';
import { BitwardenError } from '../bitwarden/source.ts';
import { deriveFromItem } from '../bitwarden/derive.ts';
import { toRecipient, short } from './keyString.ts';
import { CONTEXT_LABEL, type ContextKind, type FileCheck, type Problem, type Sighting } from './model.ts';
import { resolveName } from './names.ts';
import { readAgeHeader, recipientHeaderId } from './readers/ageHeader.ts';
import { readSecretsNix } from './readers/agenix.ts';
import { readClanGroups, readClanKeys, readClanSecrets } from './readers/clan.ts';
import { readKeysTxt } from './readers/keysTxt.ts';
import { matchRule, parseSopsConfig, type SopsConfig } from './readers/sopsConfig.ts';
import { parseSopsFile } from './readers/sopsFile.ts';

export class ValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}

export interface RepoConfig {
  /** name in some context → identity */
  aliases: Record<string, string>;
  /** identity → Bitwarden item name, when it does not follow `sops-<name>-ssh`. */
  bitwardenItems: Record<string, string>;
  /** Names to leave out of the report. */
  ignore: string[];
}

export interface ValidateOptions {
  root: string;
  /** The workstation keys.txt to compare (null: skip). */
  keysTxt?: string | null;
  bitwarden?: BitwardenSource | null;
  /** Who runs the check (for "your identity is missing from keys.txt"); usually $USER. */
  user?: string;
  /** ssh-keyscan output (`host ssh-ed25519 AAAA…` lines) to compare as SSH host keys. */
  hostKeyScan?: { path: string; text: string } | null;
  /** Sighting/file callbacks for progress on big repos. */
  progress?: (what: string) => void;
}

export interface ValidationResult {
  root: string;
  identities: string[];
  contexts: ContextKind[];
  sightings: Sighting[];
  files: FileCheck[];
  problems: Problem[];
}

const CONTEXT_ORDER: ContextKind[] = ['bitwarden', 'clan', 'sops-anchor', 'agenix', 'ssh-host-key', 'clan-age', 'keys.txt'];
const SKIP_DIRS = new Set(['.git', 'node_modules', '.direnv', 'result']);
const DATA_EXT = /\.(ya?ml|json|env|ini|txt|enc|bin)$/i;

export function loadConfig(root: string): RepoConfig {
  const cfg: RepoConfig = { aliases: {}, bitwardenItems: {}, ignore: [] };
  for (const name of ['.keybridge.yaml', '.keybridge.yml']) {
    const p = join(root, name);
    if (!existsSync(p)) continue;
    let data: Record<string, unknown>;
    try {
      data = (parseYaml(readFileSync(p, 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (e) {
      throw new ValidationError(`${name}: ${(e as Error).message.split('\n')[0]}`);
    }
    const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {});
    cfg.aliases = obj(data.aliases);
    cfg.bitwardenItems = obj((data.bitwarden as Record<string, unknown> | undefined)?.items);
    cfg.ignore = Array.isArray(data.ignore) ? data.ignore.map(String) : [];
  }
  return cfg;
}

function walk(root: string, dir: string, out: string[]): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    if (SKIP_DIRS.has(e)) continue;
    const p = join(dir, e);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) walk(root, p, out);
    else if (st.isFile()) out.push(relative(root, p));
  }
}

function fixFor(context: ContextKind, s: Sighting, expected: string): string {
  switch (context) {
    case 'sops-anchor':
      return `set &${s.name} in .sops.yaml to ${expected}, then run \`sops updatekeys -y\` on the files its rules cover`;
    case 'clan':
      return `clan secrets ${s.where.includes('/machines/') ? 'machines' : 'users'} add --force ${s.name} ${expected} && clan secrets key update`;
    case 'bitwarden':
      return `Bitwarden item ${s.name} holds another key: if the repo is right, restore the item; if the item is right, rotate the repo to it (update the other contexts, then re-encrypt)`;
    case 'keys.txt':
      return 'keybridge bw sync';
    case 'agenix':
      return `update "${s.name}" in secrets.nix to the current key, then run \`agenix -r\``;
    case 'ssh-host-key':
      return `the host's SSH key differs: re-derive its recipient with \`ssh-keyscan ${s.name} | keybridge ssh-to-age\` and update the repo, or redeploy the expected host key`;
    case 'clan-age':
      return `clan vars fix ${s.name}`;
  }
}

function setDiff(a: string[], b: string[]): { missing: string[]; extra: string[] } {
  const sa = new Set(a);
  const sb = new Set(b);
  return { missing: [...sa].filter((x) => !sb.has(x)), extra: [...sb].filter((x) => !sa.has(x)) };
}

export async function validateRepo(opts: ValidateOptions): Promise<ValidationResult> {
  const root = opts.root;
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new ValidationError(`${root} is not a directory`);
  const cfg = loadConfig(root);
  const sightings: Sighting[] = [];
  const problems: Problem[] = [];
  const files: FileCheck[] = [];
  const aliases = cfg.aliases;

  // .sops.yaml
  let sopsCfg: SopsConfig | undefined;
  const sopsPath = join(root, '.sops.yaml');
  if (existsSync(sopsPath)) {
    try {
      sopsCfg = parseSopsConfig(readFileSync(sopsPath, 'utf8'));
    } catch (e) {
      throw new ValidationError(`.sops.yaml: ${(e as Error).message}`);
    }
    for (const a of sopsCfg.anchors) {
      const recipient = toRecipient(a.value);
      if (!recipient) continue;
      sightings.push({ identity: resolveName(a.anchor, 'anchor', aliases), name: a.anchor, context: 'sops-anchor', where: `.sops.yaml:${a.line}`, recipient, ...(recipient !== a.value ? { written: a.value } : {}) });
    }
  }

  // clan key.json
  const clanKeys = readClanKeys(root);
  const clanKeyOf = new Map<string, string[]>();
  for (const k of clanKeys) {
    clanKeyOf.set(`${k.kind}/${k.name}`, k.keys);
    if (k.error) {
      problems.push({ kind: 'unreadable', identity: k.name, file: k.file, message: `${k.file}: ${k.error}`, fix: `clan secrets ${k.kind} add --force ${k.name} <age public key>` });
      continue;
    }
    for (const key of k.keys) {
      const recipient = toRecipient(key);
      if (recipient) sightings.push({ identity: resolveName(k.name, 'plain', aliases), name: k.name, context: 'clan', where: k.file, recipient });
    }
  }

  // agenix secrets.nix
  const agenixPath = ['secrets.nix', 'secrets/secrets.nix'].map((p) => join(root, p)).find((p) => existsSync(p));
  let agenix: ReturnType<typeof readSecretsNix> | undefined;
  if (agenixPath) {
    try {
      agenix = readSecretsNix(agenixPath, readFileSync(agenixPath, 'utf8'));
    } catch (e) {
      throw new ValidationError(`${relative(root, agenixPath)}: ${(e as Error).message}`);
    }
    for (const [name, key] of agenix.names) {
      const recipient = toRecipient(key);
      if (recipient) sightings.push({ identity: resolveName(name, 'plain', aliases), name, context: 'agenix', where: relative(root, agenixPath), recipient, ...(recipient !== key ? { written: key } : {}) });
    }
  }

  // Files in the repo
  const all: string[] = [];
  walk(root, root, all);

  // SSH host keys and clan age-backend machine keys
  for (const f of all) {
    const m = /(?:^|\/)([^/]+)\/ssh_host_ed25519_key\.pub$/.exec(f);
    if (m) {
      const text = readFileSync(join(root, f), 'utf8').trim();
      const recipient = toRecipient(text);
      if (recipient) sightings.push({ identity: resolveName(m[1]!, 'plain', aliases), name: m[1]!, context: 'ssh-host-key', where: f, recipient, written: text });
    }
    const a = /^secrets\/age-keys\/machines\/([^/]+)\/pub$/.exec(f);
    if (a) {
      const recipient = toRecipient(readFileSync(join(root, f), 'utf8'));
      if (recipient) sightings.push({ identity: resolveName(a[1]!, 'plain', aliases), name: a[1]!, context: 'clan-age', where: f, recipient });
    }
  }

  // ssh-keyscan output: `host[,ip…] ssh-ed25519 AAAA…`, `[host]:port …`
  if (opts.hostKeyScan) {
    opts.hostKeyScan.text.split('\n').forEach((line, i) => {
      const m = /^\s*([^#\s]\S*)\s+(ssh-ed25519\s+\S+)/.exec(line);
      if (!m) return;
      const host = m[1]!.split(',')[0]!.replace(/^\[([^\]]+)\](:\d+)?$/, '$1').split('.')[0]!;
      const recipient = toRecipient(m[2]!);
      if (recipient) sightings.push({ identity: resolveName(host, 'plain', aliases), name: host, context: 'ssh-host-key', where: `${opts.hostKeyScan!.path}:${i + 1}`, recipient, written: m[2]! });
    });
  }

  // Bitwarden: items named like sops-<name>-ssh, plus configured ones
  if (opts.bitwarden) {
    opts.progress?.(`reading Bitwarden (${opts.bitwarden.description})`);
    const wanted = new Map<string, string>(); // item → identity
    for (const [identity, item] of Object.entries(cfg.bitwardenItems)) wanted.set(item, identity);
    for (const item of await opts.bitwarden.listItems('sops-')) {
      if (/^sops-.+-ssh$/.test(item.name) && !wanted.has(item.name)) wanted.set(item.name, resolveName(item.name, 'bitwarden', aliases));
    }
    for (const [itemName, identity] of [...wanted].sort()) {
      try {
        const item = await opts.bitwarden.getItem(itemName);
        const d = deriveFromItem(item);
        sightings.push({ identity, name: itemName, context: 'bitwarden', where: `Bitwarden item ${itemName}`, recipient: d.recipient, ...(d.sshPublicKey ? { written: d.sshPublicKey } : {}) });
      } catch (e) {
        if (!(e instanceof BitwardenError)) throw e;
        problems.push({ kind: e.code === 'NOT_FOUND' ? 'missing' : 'unreadable', identity, message: `Bitwarden item ${itemName}: ${e.message}`, fix: e.code === 'NO_ED25519' ? `store an ed25519 SSH key in ${itemName}` : `bw get item ${itemName}` });
      }
    }
  }

  // Mismatches across contexts
  const ignored = new Set(cfg.ignore);
  const byIdentity = new Map<string, Sighting[]>();
  for (const s of sightings) {
    if (ignored.has(s.identity) || ignored.has(s.name)) continue;
    (byIdentity.get(s.identity) ?? byIdentity.set(s.identity, []).get(s.identity)!).push(s);
  }
  // Keys are compared within a family: SSH keys (Bitwarden items, secrets.nix SSH entries, host
  // keys) and age keys (clan, anchors, age entries). Across families only when a Bitwarden item
  // exists: then the identity's age key is meant to be derived from that SSH key. (A clan
  // machine's age key and its SSH host key are different keys by design.)
  const expectedKey = new Map<string, string>();
  const isSsh = (s: Sighting) => s.context === 'bitwarden' || s.context === 'ssh-host-key' || (s.written?.startsWith('ssh-') ?? false);
  const pickExpected = (list: Sighting[]) => {
    const counts = new Map<string, { n: number; rank: number }>();
    for (const s of list) {
      const c = counts.get(s.recipient) ?? { n: 0, rank: 99 };
      c.n++;
      c.rank = Math.min(c.rank, CONTEXT_ORDER.indexOf(s.context));
      counts.set(s.recipient, c);
    }
    return [...counts].sort((a, b) => b[1].n - a[1].n || a[1].rank - b[1].rank)[0]![0];
  };
  for (const [identity, list] of byIdentity) {
    const families = list.some((s) => s.context === 'bitwarden') ? [list] : [list.filter((s) => !isSsh(s)), list.filter(isSsh)].filter((f) => f.length);
    for (const family of families) {
      const expected = pickExpected(family);
      if (!isSsh(family[0]!) || families.length === 1) expectedKey.set(identity, expected);
      // clan may list several keys per user: the identity matches if any of them does.
      const clanOk = family.some((s) => s.context === 'clan' && s.recipient === expected);
      for (const s of family) {
        if (s.recipient === expected || (s.context === 'clan' && clanOk)) continue;
        problems.push({
          kind: 'mismatch',
          identity,
          file: s.where,
          message: `${identity}: ${CONTEXT_LABEL[s.context]} (${s.where}) has ${short(s.recipient)}, the other contexts have ${short(expected)}`,
          fix: fixFor(s.context, s, expected),
        });
      }
    }
  }

  // keys.txt
  if (opts.keysTxt && existsSync(opts.keysTxt)) {
    const known = new Map<string, string>();
    for (const s of sightings) if (!known.has(s.recipient)) known.set(s.recipient, s.identity);
    const entries = await readKeysTxt(readFileSync(opts.keysTxt, 'utf8'));
    for (const e of entries) {
      if (!e.recipient) continue;
      const identity = known.get(e.recipient) ?? (e.item ? resolveName(e.item, 'bitwarden', aliases) : undefined);
      if (!identity || !expectedKey.has(identity)) continue; // an identity for something else (another repo): not ours to judge
      sightings.push({ identity, name: identity, context: 'keys.txt', where: `${opts.keysTxt}:${e.line}`, recipient: e.recipient });
      if (expectedKey.get(identity) !== e.recipient) {
        problems.push({
          kind: 'stale',
          identity,
          file: opts.keysTxt,
          message: `${identity}: keys.txt line ${e.line}${e.item ? ` (from Bitwarden item ${e.item})` : ''} holds an old key, ${short(e.recipient)}; the repo uses ${short(expectedKey.get(identity)!)}`,
          fix: 'keybridge bw sync',
        });
      }
      if (e.commentMismatch) problems.push({ kind: 'stale', identity, file: opts.keysTxt, message: `keys.txt line ${e.line}: the "# public key:" comment (${short(e.commentMismatch)}) does not match the key below it (${short(e.recipient)})`, fix: 'keybridge bw sync' });
    }
    // The identity of the person running the check ($USER) should be there.
    const me = opts.user ? resolveName(opts.user, 'plain', aliases) : undefined;
    if (me && expectedKey.has(me) && !sightings.some((s) => s.context === 'keys.txt' && s.identity === me)) {
      problems.push({ kind: 'missing', identity: me, file: opts.keysTxt, message: `${me}: no identity for ${me}'s key (${short(expectedKey.get(me)!)}) in ${opts.keysTxt}`, fix: 'keybridge bw sync' });
    }
  }

  // Encrypted files
  const clanSecrets = readClanSecrets(root);
  const clanSecretFiles = new Set(clanSecrets.map((s) => s.file));
  const groups = readClanGroups(root);
  for (const s of clanSecrets) {
    const meta = parseSopsFile(readFileSync(join(root, s.file), 'utf8'), 'secret.json');
    if (!meta) continue;
    const expected = new Set<string>();
    const add = (kind: 'users' | 'machines', name: string) => clanKeyOf.get(`${kind}/${name}`)?.forEach((k) => expected.add(k));
    s.users.forEach((u) => add('users', u));
    s.machines.forEach((m) => add('machines', m));
    for (const g of s.groups) {
      groups.get(g)?.users.forEach((u) => add('users', u));
      groups.get(g)?.machines.forEach((m) => add('machines', m));
    }
    const actual = meta.groups.flat();
    const d = setDiff([...expected], actual);
    const fix = s.machine ? `clan vars fix ${s.machine}` : 'clan secrets key update';
    files.push({ file: s.file, kind: 'clan-secret', expected: [...expected].sort(), actual: [...actual].sort(), fix });
    if (d.missing.length || d.extra.length) problems.push({ kind: 'recipients', file: s.file, message: describeDiff(s.file, d), fix });
  }

  const sopsDir = dirname(sopsPath);
  for (const f of all) {
    if (!DATA_EXT.test(f) || f === '.sops.yaml' || f.endsWith('key.json') || clanSecretFiles.has(f) || f.startsWith('.keybridge')) continue;
    let text: string;
    try {
      const st = statSync(join(root, f));
      if (st.size > 16 << 20) continue;
      text = readFileSync(join(root, f), 'utf8');
    } catch {
      continue;
    }
    if (!text.includes('sops')) continue;
    const meta = parseSopsFile(text, f);
    if (!meta) continue;
    const rel = relative(sopsDir, join(root, f));
    const rule = sopsCfg ? matchRule(sopsCfg, rel) : undefined;
    const actual = meta.groups;
    if (!rule) {
      files.push({ file: f, kind: 'sops', expected: [], actual: actual.flat(), fix: 'add a creation rule for it to .sops.yaml', note: 'no creation rule matches' });
      problems.push({ kind: 'recipients', file: f, message: `${f}: no creation rule in .sops.yaml matches this file`, fix: 'add a creation rule for it to .sops.yaml' });
      continue;
    }
    const fix = `sops updatekeys -y ${f}`;
    files.push({ file: f, kind: 'sops', expected: rule.groups.flat(), actual: actual.flat(), fix });
    const n = Math.max(rule.groups.length, actual.length);
    const diffs = [];
    for (let g = 0; g < n; g++) diffs.push(setDiff(rule.groups[g] ?? [], actual[g] ?? []));
    const missing = diffs.flatMap((d) => d.missing);
    const extra = diffs.flatMap((d) => d.extra);
    if (missing.length || extra.length) problems.push({ kind: 'recipients', file: f, message: describeDiff(f, { missing, extra }, `rule ${rule.index + 1}${rule.pathRegex ? ` (${rule.pathRegex})` : ''}`), fix });
  }

  if (agenix && agenixPath) {
    const base = dirname(agenixPath);
    for (const [file, keys] of agenix.files) {
      const p = join(base, file);
      if (!existsSync(p)) continue;
      const header = readAgeHeader(new Uint8Array(readFileSync(p)));
      const rel = relative(root, p);
      if (!header) {
        problems.push({ kind: 'unreadable', file: rel, message: `${rel}: not an age file`, fix: `agenix -e ${file}` });
        continue;
      }
      const ids = keys.map((k) => recipientHeaderId(k));
      const expectedTagged = ids.filter((i): i is string => !!i && i !== 'anonymous').sort();
      const expectedAnon = ids.filter((i) => i === 'anonymous').length;
      const d = setDiff(expectedTagged, header.tagged);
      const fix = `agenix -r   (in ${relative(root, base) || '.'})`;
      files.push({ file: rel, kind: 'agenix', expected: expectedTagged, actual: [...header.tagged].sort(), anonymous: { expected: expectedAnon, actual: header.anonymous }, fix });
      if (d.missing.length || d.extra.length || expectedAnon !== header.anonymous) {
        const parts: string[] = [];
        const name = (id: string) => keys.find((k) => recipientHeaderId(k) === id) ?? id;
        if (d.missing.length) parts.push(`not encrypted to ${d.missing.map((m) => keyName(name(m), agenix!.names)).join(', ')}`);
        if (d.extra.length) parts.push(`still encrypted to ${d.extra.length} key(s) no longer listed (${d.extra.join(', ')})`);
        if (expectedAnon !== header.anonymous) parts.push(`${header.anonymous} X25519 stanza(s) but secrets.nix lists ${expectedAnon} age1 key(s)`);
        problems.push({ kind: 'recipients', file: rel, message: `${rel}: ${parts.join('; ')}`, fix });
      }
    }
  }

  // clan age backend: `<x>.age.recipients` sidecars against the `<x>.age` headers they describe.
  for (const f of all) {
    if (!f.endsWith('.age.recipients')) continue;
    const ageRel = f.slice(0, -'.recipients'.length);
    if (!existsSync(join(root, ageRel))) continue;
    const header = readAgeHeader(new Uint8Array(readFileSync(join(root, ageRel))));
    if (!header) continue;
    const listed = readFileSync(join(root, f), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const ids = listed.map((k) => recipientHeaderId(k));
    const tagged = ids.filter((i): i is string => !!i && i !== 'anonymous').sort();
    const anon = ids.filter((i) => i === 'anonymous').length;
    const machine = /(?:^|\/)(?:per-machine|machines)\/([^/]+)\//.exec(ageRel)?.[1];
    const fix = machine ? `clan vars fix ${machine}` : 'clan vars fix';
    files.push({ file: ageRel, kind: 'clan-age-sidecar', expected: tagged, actual: [...header.tagged].sort(), anonymous: { expected: anon, actual: header.anonymous }, fix });
    const d = setDiff(tagged, header.tagged);
    if (d.missing.length || d.extra.length || anon !== header.anonymous) {
      const why = anon !== header.anonymous ? `${f} lists ${listed.length} recipient(s), the file is encrypted to ${header.anonymous + header.tagged.length}` : `its header does not match ${f}`;
      problems.push({ kind: 'recipients', file: ageRel, message: `${ageRel}: ${why}`, fix });
    }
  }

  const identities = [...byIdentity.keys()].sort();
  const contexts = CONTEXT_ORDER.filter((c) => sightings.some((s) => s.context === c));
  return { root, identities, contexts, sightings, files, problems };
}

function keyName(key: string, names: Map<string, string>): string {
  for (const [n, k] of names) if (k === key) return n;
  return short(key);
}

function describeDiff(file: string, d: { missing: string[]; extra: string[] }, rule?: string): string {
  const parts: string[] = [];
  if (d.missing.length) parts.push(`not encrypted to ${d.missing.map(short).join(', ')}`);
  if (d.extra.length) parts.push(`still encrypted to ${d.extra.map(short).join(', ')}`);
  return `${file}: ${parts.join('; ')}${rule ? ` (${rule})` : ''}`;
}

