/**
 * Correspondence validation: every user and host has the same key in every context of a secrets
 * repo, and every encrypted file is encrypted to exactly the recipients its rule names. The
 * repository is hostile input (read through RepoFs); work is linear in its size (rules are
 * indexed, never matched file × rule).
 */
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { BitwardenSource } from '../bitwarden/source.ts';
import { BitwardenError } from '../bitwarden/source.ts';
import { deriveFromItem } from '../bitwarden/derive.ts';
import { abbreviations, checkRecipient, excerpt, short, stripComment, toRecipient } from './keyString.ts';
import { CONTEXT_LABEL, type ContextKind, type FileCheck, type Problem, type Sighting } from './model.ts';
import { resolveName } from './names.ts';
import { detectEnvironment, pluginInstallHint, type Environment } from './environment.ts';
import { RepoFs, RepoFsError, readRegularFile, walkRepo } from './repoFs.ts';
import { ageHeaderRead, readAgeHeader, recipientHeaderId } from './readers/ageHeader.ts';
import { readSecretsNix, type AgenixRules } from './readers/agenix.ts';
import { readClanNix, type ClanRecipients } from './readers/clanNix.ts';
import { readClanGroups, readClanKeys, readClanSecrets } from './readers/clan.ts';
import { readKeysTxt } from './readers/keysTxt.ts';
import { parseSopsConfig, ruleIndex, SopsConfigError, type SopsConfig } from './readers/sopsConfig.ts';
import { parseSopsFile, SopsMetadataError } from './readers/sopsFile.ts';

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
  /** NixOS detection and plugin lookup (default: this machine's). */
  environment?: Environment;
  /** Sighting/file callbacks for progress on big repos. */
  progress?: (what: string) => void;
  /** When given, milliseconds spent per phase are added to it (config, walk, keys, read, parse, match, rest); for bench/validate. */
  timings?: Record<string, number>;
}

export interface ValidationResult {
  root: string;
  identities: string[];
  contexts: ContextKind[];
  sightings: Sighting[];
  files: FileCheck[];
  problems: Problem[];
  /** Observations that are not problems (e.g. one key under two names, with the alias that joins them). */
  notes: string[];
  /** Sightings whose key string is not a valid key (shown as invalid, never ✓). */
  invalid: { context: ContextKind; where: string; name: string; reason: string }[];
}

const CONTEXT_ORDER: ContextKind[] = ['bitwarden', 'clan', 'sops-anchor', 'agenix', 'ssh-host-key', 'clan-age', 'clan-recipients', 'keys.txt'];
/** Which context wins a tie: a host's own key file over what the repo says about it. */
const AUTHORITY: ContextKind[] = ['bitwarden', 'ssh-host-key', 'clan', 'clan-age', 'sops-anchor', 'agenix', 'clan-recipients', 'keys.txt'];
const SKIP_DIRS = new Set(['.git', 'node_modules', '.direnv', 'result']);
const DATA_EXT = /\.(ya?ml|json|env|ini|txt|enc|bin)$/i;

/** Files validation reads by name (reported when they cannot be read; others are never opened). */
function wanted(rel: string): boolean {
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  if (/(^|\/)(users|machines|groups)\/[^/]+$/.test(rel) && /(^|\/)(sops|vars)\//.test(rel)) return false; // clan recipient links
  return DATA_EXT.test(base) || base.endsWith('.age') || base.endsWith('.age.recipients') || base === 'secret' || base === 'pub' || base.endsWith('.pub') || base === 'secrets.nix' || base === 'clan.nix';
}

export function loadConfig(fs: RepoFs): RepoConfig {
  const cfg: RepoConfig = { aliases: {}, bitwardenItems: {}, ignore: [] };
  for (const name of ['.keybridge.yaml', '.keybridge.yml']) {
    const text = readConfigText(fs, name, 1 << 20);
    if (text === null) continue;
    let data: unknown;
    try {
      data = parseYaml(text, { maxAliasCount: 100 }) ?? {};
    } catch (e) {
      throw new ValidationError(`${name}: ${(e as Error).message.split('\n')[0]!.slice(0, 160)}`);
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ValidationError(`${name}: must be a map (aliases, bitwarden, ignore)`);
    const d = data as Record<string, unknown>;
    const strMap = (v: unknown, what: string): Record<string, string> => {
      if (v === undefined || v === null) return {};
      if (typeof v !== 'object' || Array.isArray(v)) throw new ValidationError(`${name}: ${what} must be a map of name: name`);
      const out: Record<string, string> = Object.create(null);
      for (const [k, val] of Object.entries(v)) {
        if (typeof val !== 'string') throw new ValidationError(`${name}: ${what}.${k.slice(0, 40)} must be a string`);
        out[k] = val;
      }
      return out;
    };
    cfg.aliases = strMap(d.aliases, 'aliases');
    const bw = d.bitwarden;
    if (bw !== undefined && bw !== null && (typeof bw !== 'object' || Array.isArray(bw))) throw new ValidationError(`${name}: bitwarden must be a map (items)`);
    cfg.bitwardenItems = strMap((bw as Record<string, unknown> | undefined)?.items, 'bitwarden.items');
    if (d.ignore !== undefined && d.ignore !== null && !Array.isArray(d.ignore)) throw new ValidationError(`${name}: ignore must be a list of names`);
    cfg.ignore = ((d.ignore as unknown[]) ?? []).map(String);
  }
  return cfg;
}

/** A configuration file the check cannot do without: absent → null; unreadable → exit 2. */
function readConfigText(fs: RepoFs, rel: string, max?: number): string | null {
  try {
    return fs.readText(rel, max);
  } catch (e) {
    if (e instanceof RepoFsError) throw new ValidationError(`${e.path}: ${e.cause_}`);
    throw e;
  }
}

const NO_DIFF: { missing: string[]; extra: string[] } = Object.freeze({ missing: Object.freeze([]) as unknown as string[], extra: Object.freeze([]) as unknown as string[] });

function setDiff(a: readonly string[], b: readonly string[]): { missing: string[]; extra: string[] } {
  if (a === b || sameList(a, b)) return NO_DIFF; // the common case: the same keys in the same order
  const sa = new Set(a);
  const sb = new Set(b);
  return { missing: [...sa].filter((x) => !sb.has(x)), extra: [...sb].filter((x) => !sa.has(x)) };
}

const NO_KEYS: readonly string[] = Object.freeze([]);

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `cd DIR && CMD` for a command that must run in DIR (relative to the repository root). */
function inDir(dir: string, cmd: string): string {
  return dir && dir !== '.' ? `cd ${shellQuote(dir)} && ${cmd}` : cmd;
}

/** Lists files for a command line, all of them (a fix must clear the problem when run). */
function fileArgs(files: string[]): string {
  return files.map(shellQuote).join(' ');
}

export async function validateRepo(opts: ValidateOptions): Promise<ValidationResult> {
  const root = opts.root;
  const timings = opts.timings;
  let lapStart = timings ? performance.now() : 0;
  /** The time since the previous lap, added to `phase` (only when timings are asked for). */
  const lap = timings
    ? (phase: string) => {
        const now = performance.now();
        timings[phase] = (timings[phase] ?? 0) + now - lapStart;
        lapStart = now;
      }
    : undefined;
  let fs: RepoFs;
  try {
    fs = new RepoFs(root);
  } catch (e) {
    throw new ValidationError(e instanceof RepoFsError ? `${root} ${e.cause_ === 'does not exist' ? 'is not a directory (does not exist)' : e.cause_}` : String(e));
  }
  const env = opts.environment ?? detectEnvironment();
  const cfg = loadConfig(fs);
  const aliases = cfg.aliases;
  const sightings: Sighting[] = [];
  const problems: Problem[] = [];
  const files: FileCheck[] = [];
  const notes: string[] = [];
  const invalid: ValidationResult['invalid'] = [];
  /** Raw name → how it should be resolved (anchors may become `<user>-<host>` later). */
  const pending: { s: Omit<Sighting, 'identity'>; how: 'anchor' | 'bitwarden' | 'plain'; identity?: string }[] = [];
  const sight = (s: Omit<Sighting, 'identity'>, how: 'anchor' | 'bitwarden' | 'plain') => pending.push({ s, how });
  /** Keys that are the root cause of whatever file problem they appear in (invalid, PQ-mixed). */
  const keyCauses = new Map<string, Problem>();
  /** Checks a key string where it stands; returns its age recipient or null (reported). */
  const checked = (key: string, where: string, context: ContextKind, name: string): string | null => {
    const c = checkRecipient(key);
    if (c.kind === 'invalid') {
      invalid.push({ context, where, name, reason: c.reason! });
      keyCauses.set(key.trim(), problems[problems.push({ kind: 'invalid', identity: name, file: where, message: `${where}: ${name ? `${name}'s key ` : ''}${excerpt(stripComment(key), 24)} is not a valid recipient: ${c.reason}`, fix: `replace it with the correct key (copy it again from its source: age-keygen -y, ssh-to-age, or the machine's pub file)` }) - 1]!);
      return null;
    }
    return toRecipient(key);
  };
  const reported = new Set<string>();
  const unchecked = (path: string, cause: string, fix?: string) => !reported.has(path) && reported.add(path) && problems.push({ kind: 'unchecked', file: path, message: `${path}: ${cause}`, fix: fix ?? (/permission/.test(cause) ? `make it readable for this user (chmod/chown), or run keybridge validate as a user who can read it` : /out of the repository|dangling|loop/.test(cause) ? 'replace the link by the file itself (or remove it): validate reads nothing outside the repository' : 'replace it with a regular file (or remove it)') });

  // .sops.yaml
  let sopsCfg: SopsConfig | undefined;
  const sopsText = readConfigText(fs, '.sops.yaml', 4 << 20);
  if (sopsText !== null) {
    try {
      sopsCfg = parseSopsConfig(sopsText);
      ruleIndex(sopsCfg); // compile every path_regex now: an invalid one is an error, like for sops
    } catch (e) {
      if (e instanceof SopsConfigError) throw new ValidationError(`.sops.yaml${e.line ? `:${e.line}` : ''}: ${e.message.replace(/^line \d+: /, '')}`);
      throw e;
    }
    const anchorValues = new Set<string>();
    for (const a of sopsCfg.anchors) {
      if (!/^(age1|ssh-)/i.test(a.value) && !/^[A-Za-z0-9]{40,}$/.test(a.value)) continue; // anchors of other values (paths, regexes)
      anchorValues.add(a.value);
      const where = `.sops.yaml:${a.line}`;
      const recipient = checked(a.value, where, 'sops-anchor', a.anchor);
      if (recipient) sight({ name: a.anchor, context: 'sops-anchor', where, recipient, ...(recipient !== a.value ? { written: a.value } : {}) }, 'anchor');
    }
    for (const r of sopsCfg.rules) {
      r.groups.forEach((g, gi) => {
        g.forEach((k, ki) => {
          const line = r.lines[gi]![ki]!;
          if (anchorValues.has(k)) return; // an alias of an anchor: checked where the anchor stands
          const c = checkRecipient(k);
          if (c.kind === 'invalid') {
            invalid.push({ context: 'sops-anchor', where: `.sops.yaml:${line}`, name: '', reason: c.reason! });
            keyCauses.set(k, problems[problems.push({ kind: 'invalid', file: `.sops.yaml:${line}`, message: `.sops.yaml:${line}: ${excerpt(k, 24)} in creation rule ${r.index + 1} is not a valid recipient: ${c.reason}`, fix: 'replace it with the correct key; sops refuses to encrypt to it' }) - 1]!);
          }
        });
        const mixed = mixCheck(g, `.sops.yaml:${r.line}`, `creation rule ${r.index + 1}${r.groups.length > 1 ? `, key group ${gi + 1}` : ''}`, problems);
        if (mixed) for (const k of g) if (checkRecipient(k).pq) keyCauses.set(k, mixed);
      });
    }
  }

  // Files in the repo
  opts.progress?.('walking the repository');
  lap?.('config');
  const walk = walkRepo(fs, SKIP_DIRS, wanted);
  lap?.('walk');
  for (const p of walk.problems) unchecked(p.path, p.cause);
  const all = walk.files;

  // clan key.json
  let clanKeys;
  try {
    clanKeys = readClanKeys(fs, walk);
  } catch (e) {
    if (e instanceof RepoFsError) throw new ValidationError(`${e.path}: ${e.cause_}`);
    throw e;
  }
  const clanKeyOf = new Map<string, string[]>();
  const clanUsers = new Set<string>();
  const clanMachines = new Set<string>();
  for (const k of clanKeys) {
    (k.kind === 'users' ? clanUsers : clanMachines).add(k.name);
    clanKeyOf.set(`${k.kind}/${k.name}`, k.keys);
    if (k.fsError) {
      unchecked(k.file, k.fsError);
      continue;
    }
    if (k.error) {
      problems.push({ kind: 'unreadable', identity: k.name, file: k.file, message: `${k.file}: ${k.error}`, fix: `clan secrets ${k.kind} add --force ${k.name} <age public key>` });
      continue;
    }
    for (const key of k.keys) {
      const recipient = checked(key, k.file, 'clan', k.name);
      if (recipient) sight({ name: k.name, context: 'clan', where: k.file, recipient }, 'plain');
    }
  }

  // agenix secrets.nix
  const agenixRel = ['secrets.nix', 'secrets/secrets.nix'].find((p) => fs.exists(p));
  let agenix: AgenixRules | undefined;
  if (agenixRel) {
    const text = readConfigText(fs, agenixRel, 4 << 20)!;
    try {
      agenix = readSecretsNix(join(root, agenixRel), text, root);
    } catch (e) {
      throw new ValidationError(`${agenixRel}: ${(e as Error).message.replace(/^secrets\.nix: /, '').slice(0, 200)}`);
    }
    for (const [name, key] of agenix.names) {
      const recipient = checked(key, agenixRel, 'agenix', name);
      if (recipient) sight({ name, context: 'agenix', where: agenixRel, recipient, ...(recipient !== key ? { written: key } : {}) }, 'plain');
    }
    const named = new Set(agenix.names.values());
    for (const [file, keys] of agenix.files) {
      for (const k of keys) if (!named.has(k)) checked(k, `${agenixRel} (${file})`, 'agenix', '');
      mixCheck(keys, agenixRel, `"${file}".publicKeys`, problems);
    }
  }

  // clan.nix: the age backend's admin recipients
  let clanRecipients: ClanRecipients | null = null;
  const clanNixText = readConfigText(fs, 'clan.nix', 4 << 20);
  if (clanNixText !== null) {
    try {
      clanRecipients = readClanNix(root, join(root, 'clan.nix'), clanNixText);
    } catch (e) {
      throw new ValidationError(`clan.nix: ${(e as Error).message.replace(/^clan\.nix: /, '').slice(0, 200)}`);
    }
  }
  if (clanRecipients) {
    const lists: [string, string[]][] = [...(clanRecipients.default ? [['default', clanRecipients.default] as [string, string[]]] : []), ...[...clanRecipients.hosts].map(([m, l]) => [`hosts.${m}`, l] as [string, string[]])];
    const nameOf = new Map([...clanRecipients.names].map(([n, k]) => [k, n]));
    for (const [which, list] of lists) {
      for (const key of list) {
        const where = `clan.nix (vars.settings.recipients.${which})`;
        const recipient = checked(key, where, 'clan-recipients', nameOf.get(key) ?? '');
        if (recipient) sight({ name: nameOf.get(key) ?? '', context: 'clan-recipients', where, recipient, ...(recipient !== key ? { written: key } : {}) }, 'plain');
      }
      mixCheck(list, 'clan.nix', `vars.settings.recipients.${which}`, problems);
    }
  }

  /** A read whose RepoFsError is reported as unchecked (null then). */
  const guarded = <T>(reader: () => T | null): T | null => {
    try {
      return reader();
    } catch (e) {
      if (e instanceof RepoFsError) unchecked(e.path, e.cause_);
      else throw e;
      return null;
    }
  };
  const read = (rel: string, enough?: (head: Buffer) => boolean): Uint8Array | null => guarded(() => fs.readBytes(rel, undefined, enough));
  // Recipients read from a file are cut out of its text, and such a string keeps the whole text
  // alive: each distinct one is kept once, as a string of its own (the heap stays proportional to
  // the distinct keys, not to the bytes of every file read).
  const owned = new Map<string, string>();
  const own = (k: string): string => {
    let o = owned.get(k);
    if (o === undefined) owned.set(k, (o = Buffer.from(k, 'utf8').toString('utf8')));
    return o;
  };
  const readText = (rel: string): string | null => guarded(() => fs.readText(rel));

  // SSH host keys and clan age-backend machine keys
  const hostNames = new Set<string>();
  const agePubOf = new Map<string, string>();
  for (const f of all) {
    const m = f.endsWith('/ssh_host_ed25519_key.pub') ? /([^/]+)\/ssh_host_ed25519_key\.pub$/.exec(f) : null;
    if (m) {
      const text = readText(f)?.trim();
      if (!text) continue;
      hostNames.add(m[1]!);
      const recipient = checked(text, f, 'ssh-host-key', m[1]!);
      if (recipient) sight({ name: m[1]!, context: 'ssh-host-key', where: f, recipient, written: text }, 'plain');
    }
    const a = f.endsWith('/pub') ? /^secrets\/age-keys\/machines\/([^/]+)\/pub$/.exec(f) : null;
    if (a) {
      const text = readText(f)?.trim();
      if (!text) continue;
      clanMachines.add(a[1]!);
      const recipient = checked(text, f, 'clan-age', a[1]!);
      if (recipient) {
        agePubOf.set(a[1]!, recipient);
        sight({ name: a[1]!, context: 'clan-age', where: f, recipient }, 'plain');
      }
    }
  }

  // ssh-keyscan output: `host[,ip…] ssh-ed25519 AAAA…`, `[host]:port …`
  if (opts.hostKeyScan) {
    opts.hostKeyScan.text.split('\n').forEach((line, i) => {
      const m = /^\s*([^#\s]\S*)\s+(ssh-ed25519\s+\S+)/.exec(line);
      if (!m) return;
      const host = m[1]!.split(',')[0]!.replace(/^\[([^\]]+)\](:\d+)?$/, '$1').split('.')[0]!;
      hostNames.add(host);
      const where = `${opts.hostKeyScan!.path}:${i + 1}`;
      const recipient = checked(m[2]!, where, 'ssh-host-key', host);
      if (recipient) sight({ name: host, context: 'ssh-host-key', where, recipient, written: m[2]! }, 'plain');
    });
  }

  // Bitwarden: items named like sops-<name>-ssh, plus configured ones
  const bitwardenUsers = new Set<string>();
  if (opts.bitwarden) {
    opts.progress?.(`reading Bitwarden (${opts.bitwarden.description})`);
    const wantedItems = new Map<string, string>(); // item → identity
    for (const [identity, item] of Object.entries(cfg.bitwardenItems)) wantedItems.set(item, identity);
    for (const item of await opts.bitwarden.listItems('sops-')) {
      if (/^sops-.+-ssh$/.test(item.name) && !wantedItems.has(item.name)) wantedItems.set(item.name, resolveName(item.name, 'bitwarden', aliases));
    }
    for (const [itemName, identity] of [...wantedItems].sort()) {
      if (/-user-ssh$/.test(itemName)) bitwardenUsers.add(identity);
      try {
        const item = await opts.bitwarden.getItem(itemName);
        const d = deriveFromItem(item);
        pending.push({ s: { name: itemName, context: 'bitwarden', where: `Bitwarden item ${itemName}`, recipient: d.recipient, ...(d.sshPublicKey ? { written: d.sshPublicKey } : {}) }, how: 'bitwarden', identity });
      } catch (e) {
        if (!(e instanceof BitwardenError)) throw e;
        problems.push({ kind: e.code === 'NOT_FOUND' ? 'missing' : 'unreadable', identity, message: `Bitwarden item ${itemName}: ${e.message}`, fix: e.code === 'NO_ED25519' ? `store an ed25519 SSH key in ${itemName}` : `bw get item ${itemName}` });
      }
    }
  }

  // Names → identities. `<user>-<host>` anchors are the user's key on that host.
  const plainNames = new Set(pending.filter((p) => p.how !== 'anchor').map((p) => resolveName(p.s.name, p.how, aliases)));
  const users = new Set([...clanUsers, ...bitwardenUsers, ...pending.filter((p) => p.how === 'anchor' && /-user$/.test(p.s.name)).map((p) => resolveName(p.s.name, 'anchor', aliases))].map((u) => resolveName(u, 'plain', aliases)));
  const hosts = new Set([...clanMachines, ...hostNames, ...(clanRecipients ? clanRecipients.hosts.keys() : [])]);
  const anchorNames = new Set(pending.filter((p) => p.how === 'anchor').map((p) => p.s.name));
  for (const p of pending) {
    let identity = p.identity ?? resolveName(p.s.name, p.how, aliases);
    let host: string | undefined;
    if (p.how === 'anchor' && !Object.hasOwn(aliases, p.s.name) && !plainNames.has(identity)) {
      const dash = [...p.s.name.matchAll(/-/g)].map((m) => m.index!);
      for (const i of dash) {
        const u = resolveName(p.s.name.slice(0, i), 'plain', aliases);
        const h = p.s.name.slice(i + 1);
        if (users.has(u) && (hosts.has(h) || plainNames.has(h) || anchorNames.has(h))) {
          identity = u;
          host = h;
          break;
        }
      }
    }
    if (p.s.context === 'clan-recipients' && !p.s.name) identity = '';
    sightings.push({ identity, ...p.s, ...(host ? { host } : {}) });
  }
  // clan.nix recipients without a let name: named by the identity holding the same key.
  const identityOfKey = new Map<string, string>();
  for (const s of sightings) if (s.identity && !identityOfKey.has(s.recipient)) identityOfKey.set(s.recipient, s.identity);
  for (const s of sightings) if (s.context === 'clan-recipients' && !s.identity) s.identity = identityOfKey.get(s.recipient) ?? `admin ${short(s.recipient)}`;

  // One key under two names: say so, with the alias that would join them.
  const namesOfKey = new Map<string, Set<string>>();
  for (const s of sightings) (namesOfKey.get(s.recipient) ?? namesOfKey.set(s.recipient, new Set()).get(s.recipient)!).add(s.identity);
  for (const [key, ids] of namesOfKey) {
    if (ids.size < 2) continue;
    const count = (id: string) => sightings.filter((s) => s.identity === id).length;
    const [a, ...rest] = [...ids].sort((x, y) => count(y) - count(x) || (x < y ? -1 : 1));
    notes.push(`${[a, ...rest].join(', ')} hold the same key (${short(key)}); if they are one identity, add to .keybridge.yaml: aliases: { ${rest.map((r) => `${r}: ${a}`).join(', ')} }`);
  }

  // Which files each .sops.yaml key covers (for fixes that re-encrypt them), and the sops checks.
  /** Each sops file with the unique recipients of its rule, in walk order; filesOfKey is built from it only when a fix needs it. */
  const sopsFileNames: string[] = [];
  const sopsFileKeys: string[][] = [];
  let filesOfKeyMap: Map<string, string[]> | undefined;
  const filesOfKey = (key: string): string[] | undefined => {
    if (!filesOfKeyMap) {
      filesOfKeyMap = new Map();
      sopsFileNames.forEach((file, i) => {
        for (const k of sopsFileKeys[i]!) (filesOfKeyMap!.get(k) ?? filesOfKeyMap!.set(k, []).get(k)!).push(file);
      });
    }
    return filesOfKeyMap.get(key);
  };
  const clanSecrets = (() => {
    try {
      return readClanSecrets(fs, all);
    } catch (e) {
      if (e instanceof RepoFsError) {
        unchecked(e.path, e.cause_);
        return [];
      }
      throw e;
    }
  })();
  const clanSecretFiles = new Set(clanSecrets.map((s) => s.file));
  const fileChecks: { problem?: Problem; keys: string[]; source: ContextKind | null; raw?: string[] }[] = [];
  opts.progress?.('checking encrypted files');
  lap?.('keys');
  /**
   * Per creation rule, its recipients in order and without repeats (computed once, not per file).
   * `flat` is the `expected` list of every file of the rule (one array, shared; never modified),
   * and the `actual` list of each file whose recipients are exactly the rule's.
   */
  const ruleKeys = (sopsCfg?.rules ?? []).map((r) => {
    const flat = Object.freeze(r.groups.flat()) as string[]; // shared by many FileChecks: frozen, so no consumer can change them all
    return { flat, unique: [...new Set(flat)] };
  });
  for (const f of all) {
    if (!DATA_EXT.test(f) || f === '.sops.yaml' || f.endsWith('key.json') || clanSecretFiles.has(f) || f.startsWith('.keybridge')) continue;
    lap?.('match');
    const text = readText(f);
    lap?.('read');
    if (text === null || !text.includes('sops')) continue;
    let meta;
    try {
      meta = parseSopsFile(text, f);
      lap?.('parse');
    } catch (e) {
      if (e instanceof SopsMetadataError) {
        unchecked(f, `${e.message}; not checked`);
        continue;
      }
      throw e;
    }
    if (!meta) continue;
    // .sops.yaml is at the root: paths relative to it are the walked paths.
    const rule = sopsCfg ? ruleIndex(sopsCfg).match(f) : undefined;
    if (!rule) {
      files.push({ file: f, kind: 'sops', expected: [], actual: meta.groups.flat().map(own), fix: 'add a creation rule for it to .sops.yaml', note: 'no creation rule matches' });
      problems.push({ kind: 'recipients', file: f, message: `${f}: ${sopsCfg ? 'no creation rule in .sops.yaml matches this file' : 'a sops file, but the repository has no .sops.yaml'}`, fix: `add a creation rule whose path_regex matches ${f} to .sops.yaml, then: sops updatekeys -y ${shellQuote(f)}` });
      continue;
    }
    const keys = ruleKeys[rule.index]!;
    sopsFileNames.push(f);
    sopsFileKeys.push(keys.unique);
    const fix = `sops updatekeys -y ${shellQuote(f)}`;
    // A group whose recipients are the rule's, in order, is the rule's own list (no copy, and
    // nothing cut out of the file's text is kept); any other is kept as strings of its own.
    const got = meta.groups;
    let same = got.length === rule.groups.length;
    const actual: (readonly string[])[] = [];
    for (let g = 0; g < got.length; g++) {
      const want = rule.groups[g];
      if (want && sameList(want, got[g]!)) actual.push(want);
      else {
        same = false;
        actual.push(got[g]!.map(own));
      }
    }
    files.push({ file: f, kind: 'sops', expected: keys.flat, actual: same ? keys.flat : actual.flat(), fix });
    if (same) continue;
    const n = Math.max(rule.groups.length, actual.length);
    const missing: string[] = [];
    const extra: string[] = [];
    for (let g = 0; g < n; g++) {
      const d = setDiff(rule.groups[g] ?? NO_KEYS, actual[g] ?? NO_KEYS);
      missing.push(...d.missing);
      extra.push(...d.extra);
    }
    if (missing.length || extra.length) {
      const p: Problem = { kind: 'recipients', file: f, message: describeDiff(f, { missing, extra }, identityOfKey, `rule ${rule.index + 1}${rule.pathRegex ? ` (${rule.pathRegex})` : ''}`), fix };
      problems.push(p);
      fileChecks.push({ problem: p, keys: [...missing, ...extra].map((k) => toRecipient(k) ?? k), source: 'sops-anchor', raw: [...missing, ...extra] });
    }
  }

  lap?.('match');
  // Mismatches across contexts
  const ignored = new Set(cfg.ignore);
  const byIdentity = new Map<string, Sighting[]>();
  for (const s of sightings) {
    if (ignored.has(s.identity) || ignored.has(s.name)) continue;
    (byIdentity.get(s.identity) ?? byIdentity.set(s.identity, []).get(s.identity)!).push(s);
  }
  const machinePrivateKey = new Set(all.map((f) => (f.startsWith('sops/secrets/') ? /^sops\/secrets\/([^/]+)-age\.key\/secret$/.exec(f)?.[1] : undefined)).filter((m): m is string => !!m));
  // Keys are compared within a family: SSH keys (Bitwarden items, secrets.nix SSH entries, host
  // keys) and age keys (clan, anchors, age entries). Across families only when a Bitwarden item
  // exists: then the identity's age key is meant to be derived from that SSH key. (A clan
  // machine's age key and its SSH host key are different keys by design.)
  const expectedKey = new Map<string, string>();
  const isSsh = (s: Sighting) => s.context === 'bitwarden' || s.context === 'ssh-host-key' || (s.written?.startsWith('ssh-') ?? false);
  const pickExpected = (identity: string, list: Sighting[]) => {
    // A clan machine whose private key is in sops/secrets/<m>-age.key: its key.json is the truth.
    const clanKey = list.find((s) => s.context === 'clan');
    if (clanKey && machinePrivateKey.has(clanKey.name) && clanMachines.has(identity)) return clanKey.recipient;
    const counts = new Map<string, { n: number; rank: number }>();
    for (const s of list) {
      const c = counts.get(s.recipient) ?? { n: 0, rank: 99 };
      c.n++;
      c.rank = Math.min(c.rank, AUTHORITY.indexOf(s.context));
      counts.set(s.recipient, c);
    }
    return [...counts].sort((a, b) => b[1].n - a[1].n || a[1].rank - b[1].rank)[0]![0];
  };
  const mismatches: { problem: Problem; bad: string; context: ContextKind }[] = [];
  for (const [identity, list] of byIdentity) {
    const families = list.some((s) => s.context === 'bitwarden') ? [list] : [list.filter((s) => !isSsh(s)), list.filter(isSsh)].filter((f) => f.length);
    for (const family of families) {
      const expected = pickExpected(identity, family);
      if (!isSsh(family[0]!) || families.length === 1) expectedKey.set(identity, expected);
      // clan may list several keys per user: the identity matches if any of them does.
      const clanOk = family.some((s) => s.context === 'clan' && s.recipient === expected);
      const expectedSighting = family.find((s) => s.recipient === expected && s.written?.startsWith('ssh-')) ?? family.find((s) => s.recipient === expected)!;
      for (const s of family) {
        if (s.recipient === expected || (s.context === 'clan' && clanOk)) continue;
        // Keys shown the way the context stores them (an agenix entry as its ssh-ed25519 key).
        const sshForm = s.written?.startsWith('ssh-') && expectedSighting.written?.startsWith('ssh-');
        const have = sshForm ? s.written! : s.recipient;
        const want = sshForm ? expectedSighting.written! : expected;
        const ab = abbreviations([have, want]);
        const problem: Problem = {
          kind: 'mismatch',
          identity,
          file: s.where,
          message: `${identity}: ${CONTEXT_LABEL[s.context]} (${s.where}${s.host ? `, ${identity}'s key on ${s.host}` : ''}) has ${ab.get(have)}, the other contexts have ${ab.get(want)}`,
          fix: fixFor(s, expected, expectedSighting, { filesOfKey, machinePrivateKey, agenixRel }),
        };
        problems.push(problem);
        mismatches.push({ problem, bad: s.recipient, context: s.context });
      }
    }
  }

  // keys.txt
  const pluginsNeeded = new Map<string, string>(); // plugin → where first needed
  if (opts.keysTxt) {
    let text: string | null = null;
    try {
      text = readRegularFile(opts.keysTxt, 4 << 20).toString('utf8');
    } catch (e) {
      if (!(e instanceof RepoFsError)) throw e;
      if (e.cause_ !== 'does not exist') unchecked(opts.keysTxt, e.cause_);
    }
    if (text !== null) await checkKeysTxt(text, opts.keysTxt, { sightings, problems, expectedKey, aliases, pluginsNeeded, ...(opts.user ? { user: opts.user } : {}) });
  }

  // Encrypted files: clan secrets
  let groups = new Map<string, { users: string[]; machines: string[] }>();
  try {
    groups = readClanGroups(fs);
  } catch (e) {
    if (!(e instanceof RepoFsError)) throw e;
    unchecked(e.path, e.cause_);
  }
  for (const s of clanSecrets) {
    const text = readText(s.file);
    if (text === null) continue;
    let meta;
    try {
      meta = parseSopsFile(text, 'secret.json');
    } catch (e) {
      if (!(e instanceof SopsMetadataError)) throw e;
      unchecked(s.file, `${e.message}; not checked`);
      continue;
    }
    if (!meta) continue;
    const expected = new Set<string>();
    const add = (kind: 'users' | 'machines', name: string) => clanKeyOf.get(`${kind}/${name}`)?.forEach((k) => expected.add(k));
    s.users.forEach((u) => add('users', u));
    s.machines.forEach((m) => add('machines', m));
    for (const g of s.groups) {
      groups.get(g)?.users.forEach((u) => add('users', u));
      groups.get(g)?.machines.forEach((m) => add('machines', m));
    }
    const actual = meta.groups.flat().map(own);
    const d = setDiff([...expected], actual);
    const fix = s.machine ? `clan vars fix ${s.machine}` : 'clan secrets key update';
    files.push({ file: s.file, kind: 'clan-secret', expected: [...expected].sort(), actual: [...actual].sort(), fix });
    if (d.missing.length || d.extra.length) {
      const p: Problem = { kind: 'recipients', file: s.file, message: describeDiff(s.file, d, identityOfKey), fix };
      problems.push(p);
      fileChecks.push({ problem: p, keys: [...d.missing, ...d.extra], source: 'clan' });
    }
  }

  // agenix files
  if (agenix && agenixRel) {
    const baseRel = dirname(agenixRel) === '.' ? '' : dirname(agenixRel);
    const rekey = inDir(baseRel, 'agenix -r');
    const known = new Map<string, string>(); // header tag → identity
    for (const sg of sightings) if (sg.written?.startsWith('ssh-')) known.set(recipientHeaderId(sg.written) ?? '', sg.identity);
    for (const [file, keys] of agenix.files) {
      const rel = baseRel ? `${baseRel}/${file}` : file;
      if (fs.rel(join(root, rel)) === null || rel.split('/').includes('..')) {
        unchecked(`${agenixRel} ("${file.slice(0, 80)}")`, 'names a file outside the repository; not read', `move the file into the repository and name it relative to ${agenixRel}, or remove the entry`);
        continue;
      }
      const bytes = read(rel, ageHeaderRead); // the header only
      if (bytes === null) {
        if (!reported.has(rel)) notes.push(`${agenixRel} names ${file}, which does not exist yet (${inDir(baseRel, `agenix -e ${shellQuote(file)}`)} creates it)`);
        continue;
      }
      const header = readAgeHeader(bytes);
      if (!header) {
        problems.push({ kind: 'unreadable', file: rel, message: `${rel}: not an age file`, fix: inDir(baseRel, `agenix -e ${shellQuote(file)}`) });
        continue;
      }
      const ids = keys.map((k) => recipientHeaderId(k));
      const expectedTagged = ids.filter((i): i is string => !!i && i !== 'anonymous').sort();
      const expectedAnon = ids.filter((i) => i === 'anonymous').length;
      const d = setDiff(expectedTagged, header.tagged);
      files.push({ file: rel, kind: 'agenix', expected: expectedTagged, actual: [...header.tagged].sort(), anonymous: { expected: expectedAnon, actual: header.anonymous }, fix: rekey });
      if (d.missing.length || d.extra.length || expectedAnon !== header.anonymous) {
        const parts: string[] = [];
        const keyOfId = (id: string) => keys.find((k) => recipientHeaderId(k) === id);
        if (d.missing.length) parts.push(`not encrypted to ${d.missing.map((m) => keyName(keyOfId(m) ?? m, agenix!.names)).join(', ')}`);
        const extraKnown = d.extra.filter((x) => known.has(x));
        const extraUnknown = d.extra.filter((x) => !known.has(x));
        if (extraKnown.length) parts.push(`still encrypted to ${extraKnown.map((x) => `${known.get(x)} (${x})`).join(', ')}, no longer in its publicKeys`);
        if (extraUnknown.length) parts.push(`encrypted to ${extraUnknown.length} key(s) nobody in the repository has (${extraUnknown.join(', ')}): its recipients changed while secrets.nix did not — check who re-encrypted it before running agenix -r`);
        if (expectedAnon !== header.anonymous) parts.push(`${header.anonymous} X25519/ML-KEM stanza(s) but secrets.nix lists ${expectedAnon} age1 key(s)`);
        const p: Problem = { kind: 'recipients', file: rel, message: `${rel}: ${parts.join('; ')}`, fix: rekey };
        problems.push(p);
        fileChecks.push({ problem: p, keys: [...d.missing.map((m) => toRecipient(keyOfId(m) ?? '') ?? m)], source: 'agenix' });
      }
    }
  }

  // clan age backend: machine key files against clan.nix's recipients, and every
  // `<x>.age.recipients` sidecar against the `<x>.age` header it describes.
  const keysTxtArg = opts.keysTxt ? shellQuote(opts.keysTxt) : '~/.config/sops/age/keys.txt';
  const adminKeys = new Set([...(clanRecipients?.default ?? []), ...[...(clanRecipients?.hosts.values() ?? [])].flat()]);
  const machinePubs = new Map([...agePubOf].map(([m, k]) => [k, m]));
  for (const f of all) {
    if (!f.endsWith('.age.recipients')) continue;
    const ageRel = f.slice(0, -'.recipients'.length);
    const text = readText(f);
    if (text === null) continue;
    const listed = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    listed.forEach((k) => checked(k, f, 'clan-age', ''));
    mixCheck(listed, f, 'this recipient list', problems);
    const machineKey = /^secrets\/age-keys\/machines\/([^/]+)\/key\.age$/.exec(ageRel)?.[1];
    const owner = machineKey ?? /(?:^|\/)(?:per-machine|machines)\/([^/]+)\//.exec(ageRel)?.[1];
    const vfix = owner ? `clan vars fix ${owner}` : 'clan vars fix';
    let rootCause: Problem | undefined;
    if (machineKey && clanRecipients) {
      const want = clanRecipients.hosts.get(machineKey) ?? clanRecipients.default;
      if (!want) {
        problems.push({ kind: 'missing', identity: machineKey, file: 'clan.nix', message: `clan.nix: no age recipients configured for machine '${machineKey}' (neither vars.settings.recipients.hosts.${machineKey} nor .default); clan refuses to encrypt its key`, fix: `set vars.settings.recipients.default (or .hosts.${machineKey}) in clan.nix to the admins' age keys, then: clan vars fix ${machineKey}` });
      } else {
        const d = setDiff([...want].sort(), listed);
        if (d.missing.length || d.extra.length) {
          const ab = abbreviations([...d.missing, ...d.extra]);
          const parts = [...(d.missing.length ? [`clan.nix adds ${d.missing.map((k) => `${identityOfKey.get(toRecipient(k) ?? k) ?? ab.get(k)}`).join(', ')}`] : []), ...(d.extra.length ? [`it still lists ${d.extra.map((k) => ab.get(k)).join(', ')}, which clan.nix no longer has`] : [])];
          rootCause = { kind: 'recipients', identity: machineKey, file: f, message: `${f}: the recipients of ${machineKey}'s key differ from clan.nix (vars.settings.recipients.${clanRecipients.hosts.has(machineKey) ? `hosts.${machineKey}` : 'default'}): ${parts.join('; ')} — clan vars fix was not run`, fix: `clan vars fix ${machineKey}` };
          problems.push(rootCause);
        }
      }
    } else if (!machineKey && agePubOf.size) {
      // Shared or per-machine vars encrypted to machine keys: every listed key must be current.
      const stale = listed.filter((k) => k.startsWith('age1') && !machinePubs.has(k) && !adminKeys.has(k) && !identityOfKey.has(k));
      if (stale.length) {
        const unlisted = [...agePubOf].filter(([m, k]) => !listed.includes(k) && (!owner || owner === m)).map(([m]) => m);
        const fixM = unlisted.length ? unlisted.map((m) => `clan vars fix ${m}`).join(' && ') : vfix;
        rootCause = { kind: 'recipients', file: f, message: `${f}: lists ${stale.map((k) => short(k)).join(', ')}, which is no machine's current key${unlisted.length ? ` (${unlisted.join(', ')}'s pub changed and is not listed: regenerated while this secret still has the old one)` : ''}`, fix: fixM };
        problems.push(rootCause);
      }
    }
    const bytes = read(ageRel, ageHeaderRead); // the header only
    if (bytes === null) {
      if (!reported.has(ageRel)) notes.push(`${f} has no ${ageRel} beside it; only the list was checked`);
      continue;
    }
    const header = readAgeHeader(bytes);
    if (!header) {
      problems.push({ kind: 'unreadable', file: ageRel, message: `${ageRel}: not an age file`, fix: vfix });
      continue;
    }
    const ids = listed.map((k) => recipientHeaderId(k));
    const tagged = ids.filter((i): i is string => !!i && i !== 'anonymous').sort();
    const anon = ids.filter((i) => i === 'anonymous').length;
    files.push({ file: ageRel, kind: 'clan-age-sidecar', expected: tagged, actual: [...header.tagged].sort(), anonymous: { expected: anon, actual: header.anonymous }, fix: vfix });
    const d = setDiff(tagged, header.tagged);
    if (d.missing.length || d.extra.length || anon !== header.anonymous) {
      const fewer = anon + tagged.length > header.anonymous + header.tagged.length;
      const why = anon !== header.anonymous || d.missing.length ? `${f} lists ${listed.length} recipient(s), the file is encrypted to ${header.anonymous + header.tagged.length}${fewer ? ' (recipients were added to the list but the file was not re-encrypted)' : ' (its recipients changed while the list did not: check who re-encrypted it — clan warns of a possible malicious actor)'}` : `its header does not match ${f}`;
      // `clan vars fix` compares only the list with clan.nix, so a file that disagrees with its own list is re-encrypted by hand.
      const fix = rootCause ? rootCause.fix : `age -d -i ${keysTxtArg} ${shellQuote(ageRel)} | age -R ${shellQuote(f)} -o ${shellQuote(ageRel)}.new && mv ${shellQuote(ageRel)}.new ${shellQuote(ageRel)}`;
      problems.push({ kind: 'recipients', file: ageRel, message: `${ageRel}: ${why}`, fix, ...(rootCause ? { followsFrom: rootCause.message } : {}) });
    }
  }

  // Plugins the repository's identities and recipients need.
  for (const s of sightings) {
    const c = checkRecipient(s.written ?? s.recipient);
    if (c.kind === 'plugin' && !pluginsNeeded.has(c.plugin!)) pluginsNeeded.set(c.plugin!, s.where);
  }
  for (const [plugin, where] of pluginsNeeded) {
    if (env.hasPlugin(plugin)) continue;
    problems.push({ kind: 'plugin', file: where, message: `age-plugin-${plugin} is not on PATH, but ${where} needs it (sops, age and agenix cannot use ${plugin} keys without it)`, fix: pluginInstallHint(plugin, env.nixos) });
  }

  // Root causes first: a file whose differing keys are a mismatched key follows from that mismatch.
  for (const fc of fileChecks) {
    // Only a wrong key in the context the file's rule is made of can cause it (an old anchor in a
    // rule, an old key.json behind a clan secret's link, an old key in secrets.nix).
    const cause = mismatches.find((m) => m.context === fc.source && fc.keys.includes(m.bad))?.problem ?? (fc.raw ?? fc.keys).map((k) => keyCauses.get(k)).find(Boolean);
    if (cause && fc.problem && !fc.problem.followsFrom) fc.problem.followsFrom = cause.message;
  }
  const followers = new Map<string, Problem[]>();
  for (const p of problems) if (p.followsFrom) (followers.get(p.followsFrom) ?? followers.set(p.followsFrom, []).get(p.followsFrom)!).push(p);
  const ordered: Problem[] = [];
  for (const r of problems) {
    if (r.followsFrom) continue;
    ordered.push(r, ...(followers.get(r.message) ?? []));
    followers.delete(r.message);
  }
  for (const rest of followers.values()) ordered.push(...rest);

  const identities = [...byIdentity.keys()].sort();
  const contexts = CONTEXT_ORDER.filter((c) => sightings.some((s) => s.context === c) || invalid.some((i) => i.context === c));
  lap?.('rest');
  return { root, identities, contexts, sightings, files, problems: ordered, notes, invalid };
}

/** Go age refuses to encrypt to post-quantum and classic recipients together. */
function mixCheck(keys: string[], where: string, what: string, problems: Problem[]): Problem | undefined {
  const checks = keys.map((k) => checkRecipient(k)).filter((c) => c.kind !== 'invalid');
  const pq = checks.filter((c) => c.pq).length;
  if (pq && pq < checks.length) {
    problems.push({ kind: 'invalid', file: where, message: `${where}: ${what} mixes ${pq} post-quantum (age1pq1…/age1tagpq1…) and ${checks.length - pq} classic recipient(s); age refuses to encrypt to them ("can't mix post-quantum and classic recipients")`, fix: `use only post-quantum or only classic recipients in ${what} (e.g. give each classic user a post-quantum key: age-keygen -pq)` });
    return problems[problems.length - 1];
  }
  return undefined;
}

interface FixContext {
  filesOfKey: (key: string) => string[] | undefined;
  machinePrivateKey: Set<string>;
  agenixRel: string | undefined;
}

function fixFor(s: Sighting, expected: string, expectedSighting: Sighting, f: FixContext): string {
  switch (s.context) {
    case 'sops-anchor': {
      const covered = f.filesOfKey(s.written ?? s.recipient) ?? [];
      const then = covered.length ? `, then: sops updatekeys -y ${fileArgs(covered)}` : ' (no file is encrypted under its rules yet)';
      return `set &${s.name} in .sops.yaml (line ${s.where.split(':')[1]}) to ${expected}${then}`;
    }
    case 'clan': {
      const kind = s.where.includes('/machines/') ? 'machines' : 'users';
      if (kind === 'machines' && f.machinePrivateKey.has(s.name)) return `sops/secrets/${s.name}-age.key holds ${s.name}'s private key: its key.json must stay its public half — update the other contexts to ${short(s.recipient)} instead`;
      return `clan secrets ${kind} add --force ${s.name} ${expected} && clan secrets key update`;
    }
    case 'bitwarden':
      return `Bitwarden item ${s.name} holds another key: if the repo is right, restore the item; if the item is right, rotate the repo to it (update the other contexts, then re-encrypt)`;
    case 'keys.txt':
      return 'keybridge bw sync';
    case 'agenix': {
      const dir = f.agenixRel && dirname(f.agenixRel) !== '.' ? dirname(f.agenixRel) : '';
      const line = expectedSighting.written?.startsWith('ssh-') ? `"${stripComment(expectedSighting.written)}"` : `the key whose age recipient is ${expected}`;
      return `in ${f.agenixRel ?? 'secrets.nix'} set ${s.name} = ${line}; then: ${inDir(dir, 'agenix -r')}`;
    }
    case 'ssh-host-key':
      return `the host's SSH key differs: re-derive its recipient with \`ssh-keyscan ${s.name} | keybridge ssh-to-age\` and update the repo, or redeploy the expected host key`;
    case 'clan-age':
      return `clan vars fix ${s.name}`;
    case 'clan-recipients':
      return `replace ${short(s.written ?? s.recipient)} in clan.nix (vars.settings.recipients) with ${expected}, then: clan vars fix`;
  }
}

interface KeysTxtContext {
  sightings: Sighting[];
  problems: Problem[];
  expectedKey: Map<string, string>;
  aliases: Record<string, string>;
  pluginsNeeded: Map<string, string>;
  user?: string;
}

async function checkKeysTxt(text: string, path: string, c: KeysTxtContext): Promise<void> {
  const known = new Map<string, string>();
  for (const s of c.sightings) if (!known.has(s.recipient)) known.set(s.recipient, s.identity);
  let entries;
  try {
    entries = await readKeysTxt(text);
  } catch (e) {
    c.problems.push({ kind: 'unchecked', file: path, message: `${path}: ${(e as Error).message}; not checked`, fix: 'split it into smaller identity files' });
    return;
  }
  for (const e of entries) {
    if (e.kind === 'invalid') {
      c.problems.push({ kind: 'invalid', file: `${path}:${e.line}`, message: `${path} line ${e.line}: ${e.reason}`, fix: e.item ? 'keybridge bw sync' : `remove or correct line ${e.line} (sops stops at the first identity it cannot read)` });
      continue;
    }
    if (e.kind === 'plugin') {
      if (!c.pluginsNeeded.has(e.plugin!)) c.pluginsNeeded.set(e.plugin!, `${path}:${e.line}`);
      if (!e.recipient) {
        c.problems.push({ kind: 'invalid', file: `${path}:${e.line}`, message: `${path} line ${e.line}: the age-plugin-${e.plugin} identity has no "# recipient: age1…" comment above it; clan refuses such an identity and validate cannot tell whose it is`, fix: `put "# recipient: <its age1${e.plugin}1… recipient>" on the line above line ${e.line}${e.plugin === 'yubikey' ? ' (age-plugin-yubikey --list prints it)' : ` (age-plugin-${e.plugin} prints it when the identity is generated)`}` });
        continue;
      }
    }
    if (!e.recipient) continue;
    const identity = known.get(e.recipient) ?? (e.item ? resolveName(e.item, 'bitwarden', c.aliases) : undefined);
    if (!identity || !c.expectedKey.has(identity)) continue; // an identity for something else (another repo): not ours to judge
    c.sightings.push({ identity, name: identity, context: 'keys.txt', where: `${path}:${e.line}`, recipient: e.recipient });
    const expected = c.expectedKey.get(identity)!;
    if (expected !== e.recipient) {
      const ab = abbreviations([e.recipient, expected]);
      c.problems.push({ kind: 'stale', identity, file: path, message: `${identity}: keys.txt line ${e.line}${e.item ? ` (from Bitwarden item ${e.item})` : ''} holds an old key, ${ab.get(e.recipient)}; the repo uses ${ab.get(expected)}`, fix: 'keybridge bw sync' });
    }
    if (e.commentMismatch) {
      const ab = abbreviations([e.commentMismatch, e.recipient]);
      c.problems.push({ kind: 'stale', identity, file: path, message: `keys.txt line ${e.line}: the "# public key:" comment (${ab.get(e.commentMismatch)}) does not match the key below it (${ab.get(e.recipient)})`, fix: 'keybridge bw sync' });
    }
  }
  // The identity of the person running the check ($USER) should be there.
  const me = c.user ? resolveName(c.user, 'plain', c.aliases) : undefined;
  if (me && c.expectedKey.has(me) && !c.sightings.some((s) => s.context === 'keys.txt' && s.identity === me)) {
    c.problems.push({ kind: 'missing', identity: me, file: path, message: `${me}: no identity for ${me}'s key (${short(c.expectedKey.get(me)!)}) in ${path}`, fix: 'keybridge bw sync' });
  }
}

function keyName(key: string, names: Map<string, string>): string {
  for (const [n, k] of names) if (k === key) return n;
  return short(key);
}

function describeDiff(file: string, d: { missing: string[]; extra: string[] }, identityOfKey: Map<string, string>, rule?: string): string {
  const ab = abbreviations([...d.missing, ...d.extra]);
  const named = (k: string) => {
    const id = identityOfKey.get(toRecipient(k) ?? k);
    return id ? `${id} (${ab.get(k)})` : ab.get(k)!;
  };
  const parts: string[] = [];
  if (d.missing.length) parts.push(`not encrypted to ${d.missing.map(named).join(', ')}`);
  const extraKnown = d.extra.filter((k) => identityOfKey.has(toRecipient(k) ?? k));
  const extraUnknown = d.extra.filter((k) => !identityOfKey.has(toRecipient(k) ?? k));
  if (extraKnown.length) parts.push(`still encrypted to ${extraKnown.map(named).join(', ')}`);
  if (extraUnknown.length) parts.push(`encrypted to ${extraUnknown.map(named).join(', ')}, a key nobody in the repository has: the file's recipients changed while its rule did not — check who re-encrypted it (possible malicious actor) before re-encrypting`);
  return `${file}: ${parts.join('; ')}${rule ? ` (${rule})` : ''}`;
}
