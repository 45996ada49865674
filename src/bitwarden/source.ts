/**
 * Bitwarden as a key source: the real `bw` CLI (`bw get item`, `bw list items --search`,
 * BW_SESSION), a `bw serve` endpoint, or an unencrypted JSON export. Items of the SSH-key type
 * (type 5, `sshKey.privateKey/publicKey`) and the older convention (public key in
 * `login.password` or `login.username`, private key in `notes`) both work.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export type BitwardenErrorCode = 'NOT_INSTALLED' | 'NOT_LOGGED_IN' | 'LOCKED' | 'NOT_FOUND' | 'AMBIGUOUS' | 'NO_ED25519' | 'UNREADABLE' | 'SERVE';

export class BitwardenError extends Error {
  readonly code: BitwardenErrorCode;
  constructor(code: BitwardenErrorCode, message: string) {
    super(message);
    this.name = 'BitwardenError';
    this.code = code;
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
  if (exact.length > 1) throw new BitwardenError('AMBIGUOUS', `several Bitwarden items are named "${name}" (${exact.map((i) => i.id ?? '?').join(', ')}); rename one or select it by id`);
  throw new BitwardenError('NOT_FOUND', `no Bitwarden item named "${name}" in ${where}`);
}

/** The fields keybridge reads must have the types Bitwarden writes: a malformed export is named, not crashed on. */
function checkExportItem(item: unknown, i: number, path: string): void {
  const bad = (what: string) => new BitwardenError('UNREADABLE', `${path}: item ${i + 1} ${what}`);
  if (item === null || typeof item !== 'object' || Array.isArray(item)) throw bad('is not an object');
  const it = item as Record<string, unknown>;
  if (typeof it.name !== 'string' || !it.name) throw bad('has no name');
  const optString = (v: unknown, field: string) => {
    if (v !== undefined && v !== null && typeof v !== 'string') throw bad(`("${it.name!.toString().slice(0, 60)}"): ${field} is not a string`);
  };
  optString(it.notes, 'notes');
  for (const [obj, fields] of [['sshKey', ['publicKey', 'privateKey']], ['login', ['username', 'password']]] as const) {
    const o = it[obj];
    if (o === undefined || o === null) continue;
    if (typeof o !== 'object' || Array.isArray(o)) throw bad(`("${it.name.slice(0, 60)}"): ${obj} is not an object`);
    for (const f of fields) optString((o as Record<string, unknown>)[f], `${obj}.${f}`);
  }
}

/** An unencrypted `bw export --format json` file (or recorded `bw list items` output). */
export async function exportSource(path: string): Promise<BitwardenSource> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new BitwardenError('UNREADABLE', `cannot read the Bitwarden export ${path}: ${(e as Error).message.slice(0, 120)}`);
  }
  if (data === null || typeof data !== 'object') throw new BitwardenError('UNREADABLE', `${path} is not a Bitwarden export (a JSON object with "items", or a list of items), it holds ${data === null ? 'null' : typeof data}`);
  if ((data as { encrypted?: unknown }).encrypted === true) throw new BitwardenError('UNREADABLE', `${path} is an encrypted export; export with --format json`);
  const items = (Array.isArray(data) ? data : (data as { items?: unknown }).items) as BwItem[] | undefined;
  if (!Array.isArray(items)) throw new BitwardenError('UNREADABLE', `${path} holds no "items" list`);
  items.forEach((item, i) => checkExportItem(item, i, path));
  return {
    description: `export ${path}`,
    getItem: async (name) => pick(items, name, path),
    listItems: async (search) => items.filter((i) => i.name.toLowerCase().includes(search.toLowerCase())),
  };
}

function runBw(args: string[], env: NodeJS.ProcessEnv, bw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bw, args, { env: { ...env, BW_NOINTERACTION: 'true' }, maxBuffer: 64 << 20, timeout: 60_000 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new BitwardenError('NOT_INSTALLED', 'the Bitwarden CLI `bw` is not installed (npm install -g @bitwarden/cli), or use --export FILE / --serve URL'));
      const msg = `${stderr}`.trim() || `${stdout}`.trim();
      if (/not logged in/i.test(msg)) return reject(new BitwardenError('NOT_LOGGED_IN', 'Bitwarden: you are not logged in; run `bw login`, then `export BW_SESSION=$(bw unlock --raw)`'));
      if (/locked/i.test(msg)) return reject(new BitwardenError('LOCKED', 'Bitwarden: the vault is locked; run `export BW_SESSION=$(bw unlock --raw)`'));
      if (/^Not found/i.test(msg)) return reject(new BitwardenError('NOT_FOUND', `no Bitwarden item named "${args[2]}"`));
      if (/More than one result/i.test(msg)) return reject(new BitwardenError('AMBIGUOUS', `several Bitwarden items match "${args[2]}"; use exact names`));
      reject(new BitwardenError('UNREADABLE', `bw ${args[0]} failed: ${msg.split('\n')[0]}`));
    });
  });
}

/** The real `bw` CLI (uses BW_SESSION from the environment; never prompts). */
export function cliSource(env: NodeJS.ProcessEnv = process.env, bw = 'bw'): BitwardenSource {
  return {
    description: 'bw CLI',
    async getItem(name) {
      // `bw list items --search` + exact-name selection works with old and new CLIs alike.
      const items = JSON.parse(await runBw(['list', 'items', '--search', name], env, bw)) as BwItem[];
      return pick(items, name, 'the vault');
    },
    async listItems(search) {
      return JSON.parse(await runBw(['list', 'items', '--search', search], env, bw)) as BwItem[];
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
      throw new BitwardenError('SERVE', `bw serve: ${m}`);
    }
    return body.data;
  };
  return {
    description: `bw serve ${base}`,
    async getItem(name) {
      const data = (await get(`/list/object/items?search=${encodeURIComponent(name)}`)) as { data?: BwItem[] };
      return pick(data?.data ?? [], name, `bw serve ${base}`);
    },
    async listItems(search) {
      const data = (await get(`/list/object/items?search=${encodeURIComponent(search)}`)) as { data?: BwItem[] };
      return data?.data ?? [];
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
