/**
 * `.sops.yaml`: anchored keys (`- &name age1…`) and creation rules (path_regex, rule-level `age`
 * as a comma-separated string or a list, `key_groups[].age` with comma-split items), with sops'
 * matching: first rule whose path_regex (RE2 syntax) matches anywhere in the path relative to
 * the config. The file is hostile input: its shape is checked (a wrong shape is an error naming
 * the line), aliases must name an anchor defined before them (sops refuses the file otherwise),
 * and every count is bounded.
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Node as YamlNode } from 'yaml';
import { RuleCompileError, RuleIndex } from '../ruleIndex.ts';
import { excerpt } from '../keyString.ts';

export interface AnchoredKey {
  anchor: string;
  value: string;
  line: number;
}

export interface CreationRule {
  index: number;
  /** Line of the rule in .sops.yaml. */
  line: number;
  /** null: no path_regex (matches every path). */
  pathRegex: string | null;
  /** Recipients per key group, in order, each as written (after comma splitting and trimming). */
  groups: string[][];
  /** Line of each recipient (same shape as groups). */
  lines: number[][];
}

export interface SopsConfig {
  anchors: AnchoredKey[];
  rules: CreationRule[];
}

export class SopsConfigError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line ? `line ${line}: ${message}` : message);
    this.name = 'SopsConfigError';
  }
}

export const LIMITS = { rules: 200_000, groups: 64, recipientsPerGroup: 10_000, anchors: 100_000 };

function lineIndex(text: string): (offset: number) => number {
  const starts: number[] = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

function shapeOf(n: unknown): string {
  if (isMap(n)) return 'a map';
  if (isSeq(n)) return 'a list';
  if (isScalar(n)) return n.value === null ? 'empty' : typeof n.value === 'string' ? 'a string' : `a ${typeof n.value}`;
  return 'something else';
}

export function parseSopsConfig(text: string): SopsConfig {
  if (text.includes('\u0000') || text.includes('\ufffd')) throw new SopsConfigError('is binary, not YAML text');
  const doc = parseDocument(text, { merge: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new SopsConfigError(`invalid YAML: ${e.message.split('\n')[0]!.slice(0, 120)}`, e.linePos?.[0]?.line);
  }
  const lineOf = lineIndex(text);
  const lineAt = (n: unknown) => lineOf((n as { range?: [number] })?.range?.[0] ?? 0);
  const anchors: AnchoredKey[] = [];
  const byAnchor = new Map<string, YamlNode>();
  visit(doc, {
    Alias(_k, node) {
      if (!byAnchor.has(node.source)) throw new SopsConfigError(`alias *${node.source.slice(0, 60)} names no anchor (sops refuses this file: define &${node.source.slice(0, 60)} before it is used)`, lineAt(node));
    },
    Node(_k, node) {
      if (!('anchor' in node) || !node.anchor) return;
      if (byAnchor.size >= LIMITS.anchors) throw new SopsConfigError(`more than ${LIMITS.anchors} anchors`);
      byAnchor.set(node.anchor, node);
      if (isScalar(node) && typeof node.value === 'string') anchors.push({ anchor: node.anchor, value: node.value.trim(), line: lineAt(node) });
    },
  });
  const top = doc.contents;
  if (top === null || (isScalar(top) && top.value === null)) return { anchors, rules: [] };
  if (!isMap(top)) throw new SopsConfigError(`the top level must be a map with creation_rules, not ${shapeOf(top)}`, lineAt(top));
  const keysNode = top.get('keys', true);
  if (keysNode !== undefined && keysNode !== null && !isSeq(keysNode) && !(isScalar(keysNode) && keysNode.value === null)) throw new SopsConfigError(`keys must be a list of keys, not ${shapeOf(keysNode)}`, lineAt(keysNode));
  const rulesNode = top.get('creation_rules', true);
  if (rulesNode === undefined || rulesNode === null || (isScalar(rulesNode) && rulesNode.value === null)) return { anchors, rules: [] };
  if (!isSeq(rulesNode)) throw new SopsConfigError(`creation_rules must be a list of rules, not ${shapeOf(rulesNode)}`, lineAt(rulesNode));
  if (rulesNode.items.length > LIMITS.rules) throw new SopsConfigError(`more than ${LIMITS.rules} creation rules`);

  const deref = (n: unknown): unknown => (isAlias(n) ? byAnchor.get(n.source) : n);
  // Recipients of an `age` field: a string (comma-split) or a list of strings (each comma-split).
  const keysOf = (field: unknown, where: string): { keys: string[]; lines: number[] } => {
    const out = { keys: [] as string[], lines: [] as number[] };
    const add = (n: unknown) => {
      const v = deref(n);
      if (!isScalar(v) || typeof v.value !== 'string') throw new SopsConfigError(`${where} must hold strings (age recipients), found ${shapeOf(v)}`, lineAt(n));
      for (const k of v.value.split(',').map((s) => s.trim()).filter(Boolean)) {
        if (out.keys.length >= LIMITS.recipientsPerGroup) throw new SopsConfigError(`${where} lists more than ${LIMITS.recipientsPerGroup} recipients`, lineAt(n));
        out.keys.push(k);
        out.lines.push(lineAt(n));
      }
    };
    const f = deref(field);
    if (f === undefined || f === null || (isScalar(f) && f.value === null)) return out;
    if (isSeq(f)) f.items.forEach(add);
    else add(field);
    return out;
  };
  const rules: CreationRule[] = [];
  rulesNode.items.forEach((item, index) => {
    const node = deref(item);
    const where = `creation rule ${index + 1}`;
    if (!isMap(node)) throw new SopsConfigError(`${where} must be a map (path_regex, age or key_groups), not ${shapeOf(node)}`, lineAt(item));
    const pr = deref(node.get('path_regex', true));
    if (pr !== undefined && !(isScalar(pr) && (typeof pr.value === 'string' || pr.value === null))) throw new SopsConfigError(`${where}: path_regex must be a string, not ${shapeOf(pr)}`, lineAt(pr));
    const pathRegex = isScalar(pr) && typeof pr.value === 'string' ? pr.value : null;
    const kg = deref(node.get('key_groups', true));
    const groups: string[][] = [];
    const lines: number[][] = [];
    if (kg !== undefined && !(isScalar(kg) && kg.value === null)) {
      if (!isSeq(kg)) throw new SopsConfigError(`${where}: key_groups must be a list of groups, not ${shapeOf(kg)}`, lineAt(kg));
      if (kg.items.length > LIMITS.groups) throw new SopsConfigError(`${where}: more than ${LIMITS.groups} key groups`, lineAt(kg));
      kg.items.forEach((g, gi) => {
        const gm = deref(g);
        if (!isMap(gm)) throw new SopsConfigError(`${where}: key group ${gi + 1} must be a map (age: […]), not ${shapeOf(gm)}`, lineAt(g));
        const k = keysOf(gm.get('age', true), `${where}, key group ${gi + 1}, age`);
        groups.push(k.keys);
        lines.push(k.lines);
      });
    } else {
      const k = keysOf(node.get('age', true), `${where}: age`);
      groups.push(k.keys);
      lines.push(k.lines);
    }
    rules.push({ index, line: lineAt(item), pathRegex, groups, lines });
  });
  return { anchors, rules };
}

const indexes = new WeakMap<SopsConfig, RuleIndex<CreationRule>>();

/** Compiles every path_regex (RE2 syntax); throws SopsConfigError naming the rule when one is invalid. */
export function ruleIndex(cfg: SopsConfig): RuleIndex<CreationRule> {
  let idx = indexes.get(cfg);
  if (!idx) {
    try {
      idx = new RuleIndex(cfg.rules);
    } catch (e) {
      if (!(e instanceof RuleCompileError)) throw e;
      const r = cfg.rules[e.ruleIndex]!;
      throw new SopsConfigError(`creation rule ${r.index + 1}: path_regex ${excerpt(r.pathRegex ?? '')} is not a valid regular expression for sops (RE2): ${excerpt(e.message, 80)}`, r.line);
    }
    indexes.set(cfg, idx);
  }
  return idx;
}

export function matchRule(cfg: SopsConfig, relPath: string): CreationRule | undefined {
  return ruleIndex(cfg).match(relPath);
}
