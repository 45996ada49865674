/**
 * Bitwarden as a key source: the real `bw` CLI (`bw get item`, `bw list items --search`,
 * BW_SESSION), a `bw serve` endpoint, or an unencrypted JSON export. Items of the SSH-key type
 * (type 5, `sshKey.privateKey/publicKey`) and the older convention (public key in
 * `login.password` or `login.username`, private key in `notes`) both work.
 */
import { readRegularFileSync } from '../fs/atomicWrite.ts';
import { excerpt } from '../text/excerpt.ts';

export type BitwardenErrorCode = 'NOT_INSTALLED' | 'NOT_LOGGED_IN' | 'LOCKED' | 'NOT_FOUND' | 'AMBIGUOUS' | 'NO_ED25519' | 'KEY_MISMATCH' | 'UNREADABLE' | 'MALFORMED' | 'SERVE';

/** Codes that mean Bitwarden (or the export) could not be read at all: exit 2; item problems: exit 1. */
const COULD_NOT_RUN: ReadonlySet<BitwardenErrorCode> = new Set(['NOT_INSTALLED', 'NOT_LOGGED_IN', 'LOCKED', 'UNREADABLE', 'MALFORMED', 'SERVE']);

export class BitwardenError extends Error {
  readonly code: BitwardenErrorCode;
  constructor(code: BitwardenErrorCode, message: string) {
    super(message);
    this.name = 'BitwardenError';
    this.code = code;
  }

  /** The documented exit status: 2 when Bitwarden could not be read, 1 for a problem with an item. */
  get exitCode(): 1 | 2 {
    return COULD_NOT_RUN.has(this.code) ? 2 : 1;
  }
}

/** An item name or id from the vault, fit to quote in a message. */
export function quoted(name: string): string {
  return `"${excerpt(name, 80)}"`;
}

const OPTIONAL_STRINGS = { notes: ['notes'], login: ['username', 'password'], sshKey: ['privateKey', 'publicKey', 'keyFingerprint'] } as const;

/**
 * Checks that `data` is a list of Bitwarden items as the tools produce them (each an object with
 * a string name; key fields strings or null); anything else is a MALFORMED error naming `where`,
 * the item and the field. Nothing is skipped silently.
 */
export function checkItems(data: unknown, where: string): BwItem[] {
  if (!Array.isArray(data)) throw new BitwardenError('MALFORMED', `${where}: expected a list of items, got ${data === null ? 'null' : typeof data}`);
  data.forEach((item: unknown, i) => {
    const at = `${where}: item ${i + 1}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new BitwardenError('MALFORMED', `${at} is not an object`);
    const it = item as Record<string, unknown>;
    if (typeof it.name !== 'string') throw new BitwardenError('MALFORMED', `${at} has no name${it.name === undefined ? '' : ` (name is ${it.name === null ? 'null' : typeof it.name})`}`);
    if (it.id !== undefined && it.id !== null && typeof it.id !== 'string') throw new BitwardenError('MALFORMED', `${at} (${quoted(it.name)}) has a non-string id`);
    if (typeof it.notes !== 'undefined' && it.notes !== null && typeof it.notes !== 'string') throw new BitwardenError('MALFORMED', `${at} (${quoted(it.name)}): notes is not a string`);
    for (const group of ['login', 'sshKey'] as const) {
      const g = it[group];
      if (g === undefined || g === null) continue;
      if (typeof g !== 'object' || Array.isArray(g)) throw new BitwardenError('MALFORMED', `${at} (${quoted(it.name)}): ${group} is not an object`);
      for (const f of OPTIONAL_STRINGS[group]) {
        const v = (g as Record<string, unknown>)[f];
        if (v !== undefined && v !== null && typeof v !== 'string') throw new BitwardenError('MALFORMED', `${at} (${quoted(it.name)}): ${group}.${f} is ${typeof v}, not a string`);
      }
    }
  });
  return data as BwItem[];
}

/** JSON text from Bitwarden, parsed; the parser's message (which quotes the input) is never shown. */
function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const pos = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new BitwardenError('MALFORMED', `${where} is not valid JSON${pos ? ` (at byte ${pos})` : ''}`);
  }
}

export interface BwItem {
  id?: string;
  name: string;
  type?: number;
  notes?: string | null;
  login?: { username?: string | null; password?: string | null } | null;
  sshKey?: { privateKey?: string; publicKey?: string; keyFingerprint?: string } | null;
}

export interface BitwardenSource {
  readonly description: string;
  /** The item whose name is exactly `name` (case-insensitive), as `bw get item` resolves it. */
  getItem(name: string): Promise<BwItem>;
  /** Items whose names contain `search`. */
  listItems(search: string): Promise<BwItem[]>;
}

function pick(items: BwItem[], name: string, where: string): BwItem {
  const exact = items.filter((i) => i.name.toLowerCase() === name.toLowerCase());
  if (exact.length === 1) return exact[0]!;
  if (exact.length > 1) {
    const ids = exact.slice(0, 5).map((i) => excerpt(i.id ?? '?', 40));
    throw new BitwardenError('AMBIGUOUS', `several Bitwarden items are named ${quoted(name)} (${ids.join(', ')}${exact.length > 5 ? ', …' : ''}); rename one or select it by id`);
  }
  throw new BitwardenError('NOT_FOUND', `no Bitwarden item named ${quoted(name)} in ${where}`);
}

/** An unencrypted `bw export --format json` file (or recorded `bw list items` output). */
export async function exportSource(path: string): Promise<BitwardenSource> {
  let raw: Buffer | undefined;
  try {
    raw = readRegularFileSync(path, 256 << 20);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EACCES' ? 'permission denied' : err.code === 'ENOTREG' || err.code === 'EFBIG' ? err.message : err.code === 'EISDIR' ? 'is a directory' : (err.code ?? err.message);
    throw new BitwardenError('UNREADABLE', `cannot read the Bitwarden export ${path}: ${why}`);
  }
  if (!raw) throw new BitwardenError('UNREADABLE', `cannot read the Bitwarden export ${path}: no such file`);
  const data = parseJson(raw.toString('utf8'), `the Bitwarden export ${path}`);
  if (typeof data === 'object' && data !== null && (data as { encrypted?: unknown }).encrypted === true) throw new BitwardenError('UNREADABLE', `${path} is an encrypted export; export with --format json`);
  if (typeof data !== 'object' || data === null) throw new BitwardenError('MALFORMED', `${path}: expected a Bitwarden export (an object with "items"), got ${data === null ? 'null' : typeof data}`);
  const list = Array.isArray(data) ? data : (data as { items?: unknown }).items;
  if (list === undefined) throw new BitwardenError('MALFORMED', `${path} holds no "items" list`);
  const items = checkItems(list, path);
  return {
    description: `export ${path}`,
    getItem: async (name) => pick(items, name, path),
    listItems: async (search) => items.filter((i) => i.name.toLowerCase().includes(search.toLowerCase())),
  };
}

async function runBw(args: string[], env: NodeJS.ProcessEnv, bw: string): Promise<string> {
  const { execFile } = await import('node:child_process'); // only when the bw CLI is used
  return new Promise((resolve, reject) => {
    execFile(bw, args, { env: { ...env, BW_NOINTERACTION: 'true' }, maxBuffer: 64 << 20, timeout: 60_000 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new BitwardenError('NOT_INSTALLED', 'the Bitwarden CLI `bw` is not installed (npm install -g @bitwarden/cli), or use --export FILE / --serve URL'));
      const msg = `${stderr}`.trim() || `${stdout}`.trim();
      if (/not logged in/i.test(msg)) return reject(new BitwardenError('NOT_LOGGED_IN', 'Bitwarden: you are not logged in; run `bw login`, then `export BW_SESSION=$(bw unlock --raw)`'));
      if (/locked/i.test(msg)) return reject(new BitwardenError('LOCKED', 'Bitwarden: the vault is locked; run `export BW_SESSION=$(bw unlock --raw)`'));
      if (/^Not found/i.test(msg)) return reject(new BitwardenError('NOT_FOUND', `no Bitwarden item named ${quoted(args[2]!)}`));
      if (/More than one result/i.test(msg)) return reject(new BitwardenError('AMBIGUOUS', `several Bitwarden items match ${quoted(args[2]!)}; use exact names`));
      reject(new BitwardenError('UNREADABLE', `bw ${args[0]} failed: ${excerpt(msg.split('\n')[0]!, 200)}`));
    });
  });
}

/** The real `bw` CLI (uses BW_SESSION from the environment; never prompts). */
export function cliSource(env: NodeJS.ProcessEnv = process.env, bw = 'bw'): BitwardenSource {
  return {
    description: 'bw CLI',
    async getItem(name) {
      // `bw list items --search` + exact-name selection works with old and new CLIs alike.
      const items = checkItems(parseJson(await runBw(['list', 'items', '--search', name], env, bw), 'the output of `bw list items`'), 'bw list items');
      return pick(items, name, 'the vault');
    },
    async listItems(search) {
      return checkItems(parseJson(await runBw(['list', 'items', '--search', search], env, bw), 'the output of `bw list items`'), 'bw list items');
    },
  };
}

/** A `bw serve` endpoint (default http://localhost:8087). */
export function serveSource(base = 'http://localhost:8087'): BitwardenSource {
  const get = async (path: string) => {
    let res: Response;
    try {
      res = await fetch(new URL(path, base));
    } catch (e) {
      throw new BitwardenError('SERVE', `cannot reach bw serve at ${base}: ${(e as Error).message}`);
    }
    const body = (await res.json().catch(() => ({}))) as { success?: boolean; message?: string; data?: unknown };
    if (!body.success) {
      const m = body.message ?? `HTTP ${res.status}`;
      if (/locked/i.test(m)) throw new BitwardenError('LOCKED', 'Bitwarden (bw serve): the vault is locked; unlock it (POST /unlock)');
      if (/not logged in/i.test(m)) throw new BitwardenError('NOT_LOGGED_IN', 'Bitwarden (bw serve): not logged in');
      throw new BitwardenError('SERVE', `bw serve: ${excerpt(String(m), 200)}`);
    }
    return body.data;
  };
  return {
    description: `bw serve ${base}`,
    async getItem(name) {
      const data = (await get(`/list/object/items?search=${encodeURIComponent(name)}`)) as { data?: unknown } | null;
      return pick(checkItems(data?.data ?? [], `bw serve ${base}`), name, `bw serve ${base}`);
    },
    async listItems(search) {
      const data = (await get(`/list/object/items?search=${encodeURIComponent(search)}`)) as { data?: unknown } | null;
      return checkItems(data?.data ?? [], `bw serve ${base}`);
    },
  };
}

export interface ItemKeys {
  publicKey?: string;
  privateKey?: string;
}

/** The SSH key material of an item: type 5, else the older login/notes convention. */
export function itemKeys(item: BwItem): ItemKeys {
  if (item.sshKey && (item.sshKey.publicKey || item.sshKey.privateKey)) {
    return { ...(item.sshKey.publicKey ? { publicKey: item.sshKey.publicKey } : {}), ...(item.sshKey.privateKey ? { privateKey: item.sshKey.privateKey } : {}) };
  }
  const pub = [item.login?.password, item.login?.username].find((v) => typeof v === 'string' && /^ssh-ed25519 /.test(v.trim()));
  const priv = typeof item.notes === 'string' && /-----BEGIN (OPENSSH )?PRIVATE KEY-----/.test(item.notes) ? item.notes : undefined;
  return { ...(pub ? { publicKey: pub.trim() } : {}), ...(priv ? { privateKey: priv } : {}) };
}
