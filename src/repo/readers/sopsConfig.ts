/**
 * `.sops.yaml`: anchored keys (`- &name age1…`) and creation rules (path_regex, rule-level `age`
 * as a comma-separated string or a list, `key_groups[].age` with comma-split items), with sops'
 * matching: first rule whose path_regex matches anywhere in the path relative to the config.
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument, visit } from 'yaml';

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
  const byAnchor = new Map<string, unknown>();
  const lineStarts: number[] = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const lineOf = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  visit(doc, {
    Node(_k, node) {
      if (!('anchor' in node) || !node.anchor) return;
      if (isScalar(node)) {
        byAnchor.set(node.anchor, node.value);
        if (typeof node.value === 'string') anchors.push({ anchor: node.anchor, value: node.value.trim(), line: lineOf(node.range?.[0] ?? 0) });
      } else {
        byAnchor.set(node.anchor, (node as { toJSON(): unknown }).toJSON());
      }
    },
  });
  // Resolve values by walking the tree (aliases looked up in a map: no quadratic alias resolution).
  const value = (n: unknown): unknown => {
    if (isAlias(n)) return byAnchor.get(n.source);
    if (isScalar(n)) return n.value;
    if (isSeq(n)) return n.items.map(value);
    if (isMap(n)) return Object.fromEntries(n.items.map((p) => [String(isScalar(p.key) ? p.key.value : p.key), value(p.value)]));
    return n;
  };
  const rules: CreationRule[] = [];
  const top = doc.contents;
  const rulesNode = isMap(top) ? top.get('creation_rules', true) : undefined;
  const raw = isSeq(rulesNode) ? rulesNode.items : [];
  raw.forEach((node, index) => {
    const r = value(node) as Record<string, unknown> | null;
    if (!r || typeof r !== 'object') return;
    const groups = Array.isArray(r.key_groups) ? (r.key_groups as Record<string, unknown>[]).map((g) => splitKeys(g?.age)) : [splitKeys(r.age)];
    rules.push({ index, pathRegex: typeof r.path_regex === 'string' ? r.path_regex : undefined, groups });
  });
  return { anchors, rules };
}

/**
 * A literal that every match of `re` must contain (when the pattern is a plain sequence): lets
 * most non-matching rules be skipped with a substring test instead of a regex run.
 */
export function requiredLiteral(re: string): string {
  if (/[|()[\]{}]/.test(re)) return ''; // alternation, groups, classes, counts: no plain literal
  let best = '';
  let cur = '';
  const end = () => {
    if (cur.length > best.length) best = cur;
    cur = '';
  };
  for (let i = 0; i < re.length; i++) {
    const c = re[i]!;
    if (c === '\\') {
      const n = re[++i];
      if (n !== undefined && /[.\\/\-_$^*+?]/.test(n) && !/[*?]/.test(re[i + 1] ?? '')) cur += n;
      else end();
      continue;
    }
    if ('.^$*+?'.includes(c)) {
      if (c === '*' || c === '?') cur = cur.slice(0, -1); // the previous character is optional
      end();
      continue;
    }
    if (/[*?]/.test(re[i + 1] ?? '')) {
      end();
      continue;
    }
    cur += c;
  }
  end();
  return best;
}

const compiled = new WeakMap<CreationRule, { re: RegExp | null; literal: string }>();

export function matchRule(cfg: SopsConfig, relPath: string): CreationRule | undefined {
  for (const r of cfg.rules) {
    if (r.pathRegex === undefined || r.pathRegex === '') return r;
    let c = compiled.get(r);
    if (c === undefined) {
      let re: RegExp | null;
      try {
        re = new RegExp(r.pathRegex);
      } catch {
        re = null;
      }
      c = { re, literal: requiredLiteral(r.pathRegex) };
      compiled.set(r, c);
    }
    if (c.literal && !relPath.includes(c.literal)) continue;
    if (c.re?.test(relPath)) return r;
  }
  return undefined;
}

