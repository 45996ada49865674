/**
 * The recipients recorded in a sops-encrypted file: `sops.age[].recipient` (one key group) or
 * `sops.key_groups[i].age[].recipient`, in YAML, JSON (also the binary store), dotenv
 * (`sops_age__list_0__map_recipient=`) and INI (`[sops]` section).
 */
import { parse as parseYaml } from 'yaml';

export interface SopsMetadata {
  groups: string[][];
}

/** Bounds on what sops metadata may claim (sops itself writes a handful of groups and keys). */
export const SOPS_LIMITS = { groups: 64, recipients: 10_000 };

/** The file is sops-encrypted but its metadata is malformed or exceeds a bound. */
export class SopsMetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SopsMetadataError';
  }
}

function fromObject(sops: Record<string, unknown>): SopsMetadata {
  const recips = (list: unknown, where: string) => {
    if (list === undefined || list === null) return [];
    if (!Array.isArray(list)) throw new SopsMetadataError(`sops metadata: ${where} is not a list`);
    if (list.length > SOPS_LIMITS.recipients) throw new SopsMetadataError(`sops metadata: ${where} lists ${list.length} keys, more than ${SOPS_LIMITS.recipients}`);
    return list.map((e) => (e as { recipient?: unknown })?.recipient).filter((r): r is string => typeof r === 'string').map((r) => r.trim());
  };
  if (sops.key_groups !== undefined && sops.key_groups !== null) {
    if (!Array.isArray(sops.key_groups)) throw new SopsMetadataError('sops metadata: key_groups is not a list');
    if (sops.key_groups.length > SOPS_LIMITS.groups) throw new SopsMetadataError(`sops metadata: ${sops.key_groups.length} key groups, more than ${SOPS_LIMITS.groups}`);
    return { groups: (sops.key_groups as Record<string, unknown>[]).map((g, i) => recips(g?.age, `key group ${i + 1} age`)) };
  }
  return { groups: [recips(sops.age, 'age')] };
}

function fromFlat(entries: [string, string][]): SopsMetadata {
  const groups: Map<number, Map<number, string>> = new Map();
  for (const [k, v] of entries) {
    const m = /^(?:sops_)?(?:key_groups__list_(\d{1,12})__map_)?age__list_(\d{1,12})__map_recipient$/.exec(k);
    if (!m) {
      if (/__list_\d{13,}/.test(k)) throw new SopsMetadataError('sops metadata: a list index with more than 12 digits');
      continue;
    }
    const g = Number(m[1] ?? 0);
    const i = Number(m[2]);
    if (g >= SOPS_LIMITS.groups) throw new SopsMetadataError(`sops metadata: key group index ${g} is out of range (sops writes fewer than ${SOPS_LIMITS.groups} groups)`);
    if (i >= SOPS_LIMITS.recipients) throw new SopsMetadataError(`sops metadata: age key index ${i} is out of range (at most ${SOPS_LIMITS.recipients} keys per group)`);
    let group = groups.get(g);
    if (!group) groups.set(g, (group = new Map()));
    group.set(i, v.trim());
  }
  const n = groups.size ? Math.max(...groups.keys()) + 1 : 0;
  return { groups: Array.from({ length: n }, (_, g) => [...(groups.get(g) ?? new Map<number, string>())].sort((a, b) => a[0] - b[0]).map(([, r]) => r).filter(Boolean)) };
}

/** A `recipient:` line of the age list (global: read with exec from lastIndex 0). */
const RECIPIENT_LINE = /^[^\S\n]*(?:- )?recipient:\s*(\S+)\s*$/gm;

/** Parses sops metadata; null when the text is not a sops file. */
export function parseSopsFile(text: string, fileName: string): SopsMetadata | null {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.env')) {
    const entries = text.split('\n').map((l) => l.split('=')).filter((p) => p.length >= 2).map((p) => [p[0]!.trim(), p.slice(1).join('=')] as [string, string]);
    return entries.some(([k]) => k.startsWith('sops_')) ? fromFlat(entries) : null;
  }
  if (lower.endsWith('.ini')) {
    const at = text.search(/^\[sops\]\s*$/m);
    if (at < 0) return null;
    const section = text.slice(at).split('\n').slice(1);
    const entries: [string, string][] = [];
    for (const l of section) {
      if (/^\[/.test(l)) break;
      const i = l.indexOf('=');
      if (i > 0) entries.push([l.slice(0, i).trim(), l.slice(i + 1).trim()]);
    }
    return fromFlat(entries);
  }
  if (!text.trimStart().startsWith('{')) {
    // Fast path for the common YAML layout: a top-level `sops:` block with one key group. Only
    // `recipient:` keys of the age list are read; anything else falls back to a full parse. The
    // indentation is matched within one line: `^\s*` would rescan every following blank line
    // from each line start (quadratic).
    const at = text.search(/^sops:\s*$/m);
    if (at >= 0) {
      const block = text.slice(at);
      if (!block.includes('key_groups:') || !/^[^\S\n]+key_groups:/m.test(block)) {
        const recipients: string[] = [];
        RECIPIENT_LINE.lastIndex = 0;
        for (let m = RECIPIENT_LINE.exec(block); m; m = RECIPIENT_LINE.exec(block)) {
          const r = m[1]!;
          const q0 = r.charCodeAt(0);
          const q1 = r.charCodeAt(r.length - 1);
          recipients.push(q0 === 34 || q0 === 39 || q1 === 34 || q1 === 39 ? r.replace(/^["']|["']$/g, '') : r);
        }
        return { groups: [recipients] };
      }
    }
  }
  let data: unknown;
  try {
    data = text.trimStart().startsWith('{') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100 });
  } catch {
    if (/^sops:/m.test(text) || /"sops"\s*:/.test(text)) throw new SopsMetadataError('looks like a sops file but does not parse as YAML or JSON');
    return null;
  }
  const sops = (data as { sops?: unknown } | null)?.sops;
  if (!sops || typeof sops !== 'object') return null;
  return fromObject(sops as Record<string, unknown>);
}
