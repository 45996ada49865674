/**
 * The recipients recorded in a sops-encrypted file: `sops.age[].recipient` (one key group) or
 * `sops.key_groups[i].age[].recipient`, in YAML, JSON (also the binary store), dotenv
 * (`sops_age__list_0__map_recipient=`) and INI (`[sops]` section).
 */
import { parse as parseYaml } from 'yaml';

export interface SopsMetadata {
  groups: string[][];
}

function fromObject(sops: Record<string, unknown>): SopsMetadata {
  const recips = (list: unknown) => (Array.isArray(list) ? list.map((e) => (e as { recipient?: unknown })?.recipient).filter((r): r is string => typeof r === 'string') : []);
  if (Array.isArray(sops.key_groups)) return { groups: (sops.key_groups as Record<string, unknown>[]).map((g) => recips(g?.age)) };
  return { groups: [recips(sops.age)] };
}

function fromFlat(entries: [string, string][]): SopsMetadata {
  const groups: string[][] = [];
  for (const [k, v] of entries) {
    const m = /^(?:sops_)?(?:key_groups__list_(\d+)__map_)?age__list_(\d+)__map_recipient$/.exec(k);
    if (!m) continue;
    const g = Number(m[1] ?? 0);
    (groups[g] ??= [])[Number(m[2])] = v.trim();
  }
  return { groups: groups.map((g) => (g ?? []).filter(Boolean)) };
}

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
    // `recipient:` keys of the age list are read; anything else falls back to a full parse.
    const at = text.search(/^sops:\s*$/m);
    if (at >= 0) {
      const block = text.slice(at);
      if (!/^\s+key_groups:/m.test(block)) {
        const recipients = [...block.matchAll(/^\s*(?:- )?recipient:\s*(\S+)\s*$/gm)].map((m) => m[1]!.replace(/^["']|["']$/g, ''));
        return { groups: [recipients] };
      }
    }
  }
  let data: unknown;
  try {
    data = text.trimStart().startsWith('{') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: -1 });
  } catch {
    return null;
  }
  const sops = (data as { sops?: unknown } | null)?.sops;
  if (!sops || typeof sops !== 'object') return null;
  return fromObject(sops as Record<string, unknown>);
}
