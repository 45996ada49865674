/**
 * `.sops.yaml`: anchored keys (`- &name age1…`) and creation rules (path_regex, rule-level `age`
 * as a comma-separated string or a list, `key_groups[].age` with comma-split items), with sops'
 * matching: first rule whose path_regex matches anywhere in the path relative to the config.
 */
import { parseDocument, visit } from 'yaml';

export interface AnchoredKey {
  anchor: string;
  value: string;
  line: number;
}

export interface CreationRule {
  index: number;
  pathRegex: string | undefined;
  /** Recipients per key group, in order, each as written (after comma splitting and trimming). */
  groups: string[][];
}

export interface SopsConfig {
  anchors: AnchoredKey[];
  rules: CreationRule[];
}

function splitKeys(v: unknown): string[] {
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(v)) return v.flatMap((x) => (typeof x === 'string' ? splitKeys(x) : []));
  return [];
}

export function parseSopsConfig(text: string): SopsConfig {
  const doc = parseDocument(text, { merge: true });
  if (doc.errors.length) throw new Error(`invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const anchors: AnchoredKey[] = [];
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
  visit(doc, {
    Scalar(_k, node) {
      if (node.anchor && typeof node.value === 'string') anchors.push({ anchor: node.anchor, value: node.value.trim(), line: lineOf(node.range?.[0] ?? 0) });
    },
  });
  const js = doc.toJS({ maxAliasCount: -1 }) as { creation_rules?: unknown } | null;
  const rules: CreationRule[] = [];
  const raw = Array.isArray(js?.creation_rules) ? js!.creation_rules : [];
  raw.forEach((r: Record<string, unknown>, index: number) => {
    if (!r || typeof r !== 'object') return;
    const groups = Array.isArray(r.key_groups)
      ? (r.key_groups as Record<string, unknown>[]).map((g) => splitKeys(g?.age))
      : [splitKeys(r.age)];
    rules.push({ index, pathRegex: typeof r.path_regex === 'string' ? r.path_regex : undefined, groups });
  });
  return { anchors, rules };
}

/** The rule sops would use for `relPath` (relative to the config's directory), or undefined. */
export function matchRule(cfg: SopsConfig, relPath: string): CreationRule | undefined {
  for (const r of cfg.rules) {
    if (r.pathRegex === undefined || r.pathRegex === '') return r;
    try {
      if (new RegExp(r.pathRegex).test(relPath)) return r;
    } catch {
      continue;
    }
  }
  return undefined;
}

