/**
 * clan's age-backend recipients in `clan.nix` (or its inventory): `vars.settings.recipients.default`
 * and `vars.settings.recipients.hosts.<machine>` — evaluated with Nix in restricted mode when it
 * is installed (a function file is called with its named arguments set to null: only the
 * recipients are forced), else read by the lenient subset parser.
 */
import { NixParser, nixEvalJson, UNKNOWN, type NixValue } from './nix.ts';
import { excerpt } from '../keyString.ts';

export interface ClanRecipients {
  default?: string[];
  hosts: Map<string, string[]>;
  /** let-bound names of single keys (e.g. `crs58 = "age1…";`). */
  names: Map<string, string>;
  evaluatedWith: 'nix' | 'parser';
}

const SELECT = `c: let
  v = if builtins.isFunction c then c (builtins.mapAttrs (_: _: null) (builtins.functionArgs c)) else c;
  pick = x: if builtins.isAttrs x then (x.vars.settings.recipients or null) else null;
  top = pick v;
in if top != null then top else if pick (v.inventory or null) != null then pick v.inventory else pick ((v.clan or {}).core or null)`;

const MAX = 10_000;

function strings(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) throw new Error(`${where} must be a list of recipient strings`);
  if (v.length > MAX) throw new Error(`${where} lists more than ${MAX} recipients`);
  return v.map((x, i) => {
    if (typeof x !== 'string') throw new Error(`${where}: entry ${i + 1} is not a string`);
    return x.trim();
  });
}

function fromValue(r: unknown, names: Map<string, string>, evaluatedWith: ClanRecipients['evaluatedWith']): ClanRecipients | null {
  if (r === null || r === undefined || r === UNKNOWN) return null;
  if (typeof r !== 'object' || Array.isArray(r)) throw new Error('vars.settings.recipients must be an attribute set (default, hosts)');
  const o = r as Record<string, unknown>;
  const out: ClanRecipients = { hosts: new Map(), names, evaluatedWith };
  if (o.default !== undefined && o.default !== null && o.default !== UNKNOWN) out.default = strings(o.default, 'vars.settings.recipients.default');
  const hosts = o.hosts;
  if (hosts && hosts !== UNKNOWN) {
    if (typeof hosts !== 'object' || Array.isArray(hosts)) throw new Error('vars.settings.recipients.hosts must be an attribute set of machine = [ … ]');
    for (const [m, list] of Object.entries(hosts as Record<string, unknown>)) if (list !== UNKNOWN) out.hosts.set(m, strings(list, `vars.settings.recipients.hosts.${/^[\w.-]{1,60}$/.test(m) ? m : excerpt(m)}`));
  }
  return out;
}

function pickParsed(v: NixValue): NixValue | undefined {
  const get = (x: NixValue | undefined, ...path: string[]): NixValue | undefined => {
    let cur = x;
    for (const k of path) {
      if (!cur || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, k)) return undefined;
      cur = (cur as Record<string, NixValue>)[k];
    }
    return cur;
  };
  return get(v, 'vars', 'settings', 'recipients') ?? get(v, 'inventory', 'vars', 'settings', 'recipients') ?? get(v, 'clan', 'core', 'vars', 'settings', 'recipients');
}

/** The lenient subset parser's reading: the recipients value (if any), its error, the let-bound key names. */
function parseSubset(text: string): { parsed?: NixValue; parseError?: Error; names: Map<string, string> } {
  const p = new NixParser(text, 'clan.nix', true);
  let parsed: NixValue | undefined;
  let parseError: Error | undefined;
  try {
    parsed = pickParsed(p.parseTop(new Map()));
  } catch (e) {
    parseError = e as Error;
  }
  const names = new Map<string, string>();
  for (const [k, v] of p.topBindings) if (typeof v === 'string' && /^(age1|ssh-)/.test(v)) names.set(k, v.trim());
  return { ...(parsed !== undefined ? { parsed } : {}), ...(parseError ? { parseError } : {}), names };
}

/** clan.nix read by the subset parser alone (what readClanNix falls back to without Nix). */
export function parseClanNix(text: string): ClanRecipients | null {
  const { parsed, parseError, names } = parseSubset(text);
  if (parseError) throw parseError;
  return fromValue(parsed, names, 'parser');
}

/** The recipients clan.nix configures, or null when it configures none. */
export function readClanNix(root: string, path: string, text: string): ClanRecipients | null {
  const { parsed, parseError, names } = parseSubset(text);
  let viaNix: unknown;
  try {
    viaNix = nixEvalJson(root, path, SELECT);
  } catch (nixError) {
    if (parseError) throw nixError;
    return fromValue(parsed, names, 'parser');
  }
  if (viaNix !== null) return fromValue(viaNix, names, 'nix');
  if (parseError) throw parseError;
  return fromValue(parsed, names, 'parser');
}
