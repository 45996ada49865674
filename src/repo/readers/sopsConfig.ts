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

const ANCHOR_LINE = /^ {2}- &([A-Za-z0-9_-]+) (age1[02-9ac-hj-np-z]+)(?: +#.*)?$/;
const RULE_LINE = /^ {2}- path_regex: ([A-Za-z0-9_/.\\^$(][A-Za-z0-9_/.\\^$()|*+?[\]{}-]*)$/;
const FLOW_ALIASES = /^\[(\*[A-Za-z0-9_-]+(?:, ?\*[A-Za-z0-9_-]+)*)\]$/;

/**
 * The layout nearly every `.sops.yaml` has — `keys:` with one-line `- &name age1…` anchors, then
 * `creation_rules:` of `- path_regex: <plain>` with `key_groups: - age: [*a, …]` (flow or block
 * list of aliases) or `age: *a` / `age: [*a, …]` — read line by line, at a fraction of a full
 * YAML parse. Anything else (quotes, other fields, other indentation, tabs, comments inside a
 * rule's lists, an unknown alias) returns null, and the full parser reads the file. The result
 * is the full parser's (differential test in test/repo/readers.test.ts).
 */
export function parseCommonLayout(text: string): SopsConfig | null {
  if (/[\t\r\ufeff]/.test(text)) return null;
  const lines = text.split('\n');
  const anchors: AnchoredKey[] = [];
  const values = new Map<string, string>();
  const rules: CreationRule[] = [];
  let section: '' | 'keys' | 'rules' = '';
  let sawKeys = false;
  let sawRules = false;
  let rule: CreationRule | null = null;
  let mode: '' | 'groups' | 'block' | 'done' = ''; // inside key_groups; inside a block list of aliases; after a rule-level age
  const alias = (a: string): string | null => (values.has(a) ? values.get(a)! : null);
  const addAliases = (list: string, line: number, group: { keys: string[]; lines: number[] }): boolean => {
    for (const item of list.split(',')) {
      const v = alias(item.trim().slice(1));
      if (v === null) return false;
      if (group.keys.length >= LIMITS.recipientsPerGroup) return false;
      group.keys.push(v);
      group.lines.push(line);
    }
    return true;
  };
  let group: { keys: string[]; lines: number[] } | null = null;
  const closeGroup = () => {
    if (group && rule) {
      rule.groups.push(group.keys);
      rule.lines.push(group.lines);
    }
    group = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const n = i + 1;
    if (l === '' || /^ *#/.test(l)) {
      if (mode === 'block' && l !== '') return null; // a comment inside a list: leave it to the full parser
      continue;
    }
    if (l === 'keys:') {
      if (sawKeys || sawRules) return null;
      sawKeys = true;
      section = 'keys';
      continue;
    }
    if (l === 'creation_rules:') {
      if (sawRules) return null;
      sawRules = true;
      section = 'rules';
      continue;
    }
    if (section === 'keys') {
      const m = ANCHOR_LINE.exec(l);
      if (!m || values.has(m[1]!)) return null;
      values.set(m[1]!, m[2]!);
      anchors.push({ anchor: m[1]!, value: m[2]!, line: n });
      continue;
    }
    if (section !== 'rules') return null;
    const r = RULE_LINE.exec(l);
    if (r) {
      if (/ #|: |:$/.test(r[1]!)) return null;
      if (mode === 'block' && (!group || !(group as { keys: string[] }).keys.length)) return null;
      closeGroup();
      if (rule && rule.groups.length === 0) return null;
      if (rules.length >= LIMITS.rules) return null;
      rule = { index: rules.length, line: n, pathRegex: r[1]!, groups: [], lines: [] };
      rules.push(rule);
      mode = '';
      continue;
    }
    if (!rule) return null;
    if (l === '    key_groups:') {
      if (mode !== '' || rule.groups.length) return null;
      mode = 'groups';
      continue;
    }
    if (mode === 'groups' || mode === 'block') {
      const flow = /^ {6}- age: (.*)$/.exec(l);
      if (flow) {
        if (mode === 'block' && !(group as { keys: string[] } | null)?.keys.length) return null;
        closeGroup();
        const f = FLOW_ALIASES.exec(flow[1]!);
        if (!f) return null;
        group = { keys: [], lines: [] };
        if (!addAliases(f[1]!, n, group)) return null;
        closeGroup();
        mode = 'groups';
        continue;
      }
      if (l === '      - age:') {
        if (mode === 'block' && !(group as { keys: string[] } | null)?.keys.length) return null;
        closeGroup();
        group = { keys: [], lines: [] };
        mode = 'block';
        continue;
      }
      const item = /^ {10}- (\*[A-Za-z0-9_-]+)$/.exec(l);
      if (item && mode === 'block') {
        if (!addAliases(item[1]!, n, group!)) return null;
        continue;
      }
      return null;
    }
    const age = /^ {4}age: (.*)$/.exec(l);
    if (age && mode === '' && rule.groups.length === 0) {
      const f = FLOW_ALIASES.exec(age[1]!);
      const single = /^\*[A-Za-z0-9_-]+$/.test(age[1]!) ? age[1]! : null;
      if (!f && !single) return null;
      const g = { keys: [] as string[], lines: [] as number[] };
      if (!addAliases(f ? f[1]! : single!, n, g)) return null;
      rule.groups.push(g.keys);
      rule.lines.push(g.lines);
      mode = 'done';
      continue;
    }
    return null;
  }
  if (mode === 'block' && !(group as { keys: string[] } | null)?.keys.length) return null;
  closeGroup();
  if (!sawRules || rules.some((x) => x.groups.length === 0 || x.groups.some((g) => g.length === 0))) return null;
  if (rules.length > LIMITS.rules || anchors.length > LIMITS.anchors) return null;
  return { anchors, rules };
}

export function parseSopsConfig(text: string): SopsConfig {
  if (text.includes('\u0000') || text.includes('\ufffd')) throw new SopsConfigError('is binary, not YAML text');
  return parseCommonLayout(text) ?? parseSopsConfigYaml(text);
}

/** The full reading through the yaml library: every layout, shape errors with their line. */
export function parseSopsConfigYaml(text: string): SopsConfig {
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
  const deref = (n: unknown): unknown => (isAlias(n) ? byAnchor.get(n.source) : n);
  /** What a node is; an alias is named, with what its anchor holds and where. */
  const shape = (n: unknown): string => {
    if (!isAlias(n)) return shapeOf(n);
    const target = byAnchor.get(n.source);
    return `the alias *${n.source.slice(0, 60)} (line ${lineAt(n)}), which names ${shapeOf(target)} (&${n.source.slice(0, 60)} at line ${lineAt(target)})`;
  };
  const top = doc.contents;
  if (top === null || (isScalar(top) && top.value === null)) return { anchors, rules: [] };
  if (!isMap(top)) throw new SopsConfigError(`the top level must be a map with creation_rules, not ${shapeOf(top)}`, lineAt(top));
  const keysRaw = top.get('keys', true);
  const keysNode = deref(keysRaw);
  if (keysNode !== undefined && keysNode !== null && !isSeq(keysNode) && !(isScalar(keysNode) && keysNode.value === null)) throw new SopsConfigError(`keys must be a list of keys, not ${shape(keysRaw)}`, lineAt(keysRaw));
  // An alias stands for its anchor's value (sops reads .sops.yaml with aliases resolved).
  const rulesRaw = top.get('creation_rules', true);
  const rulesNode = deref(rulesRaw);
  if (rulesNode === undefined || rulesNode === null || (isScalar(rulesNode) && rulesNode.value === null)) return { anchors, rules: [] };
  if (!isSeq(rulesNode)) throw new SopsConfigError(`creation_rules must be a list of rules, not ${shape(rulesRaw)}`, lineAt(rulesRaw));
  if (rulesNode.items.length > LIMITS.rules) throw new SopsConfigError(`more than ${LIMITS.rules} creation rules`);

  // Recipients of an `age` field: a string (comma-split) or a list of strings (each comma-split).
  const keysOf = (field: unknown, where: string): { keys: string[]; lines: number[] } => {
    const out = { keys: [] as string[], lines: [] as number[] };
    const add = (n: unknown) => {
      const v = deref(n);
      if (!isScalar(v) || typeof v.value !== 'string') throw new SopsConfigError(`${where} must hold strings (age recipients), found ${shape(n)}`, lineAt(n));
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
    const where = `creation rule ${index + 1}${isAlias(rulesRaw) ? ` (of *${rulesRaw.source.slice(0, 60)}, the alias creation_rules is at line ${lineAt(rulesRaw)})` : ''}`;
    if (!isMap(node)) throw new SopsConfigError(`${where} must be a map (path_regex, age or key_groups), not ${shape(item)}`, lineAt(item));
    const prRaw = node.get('path_regex', true);
    const pr = deref(prRaw);
    if (pr !== undefined && !(isScalar(pr) && (typeof pr.value === 'string' || pr.value === null))) throw new SopsConfigError(`${where}: path_regex must be a string, not ${shape(prRaw)}`, lineAt(prRaw));
    const pathRegex = isScalar(pr) && typeof pr.value === 'string' ? pr.value : null;
    const kgRaw = node.get('key_groups', true);
    const kg = deref(kgRaw);
    const groups: string[][] = [];
    const lines: number[][] = [];
    if (kg !== undefined && !(isScalar(kg) && kg.value === null)) {
      if (!isSeq(kg)) throw new SopsConfigError(`${where}: key_groups must be a list of groups, not ${shape(kgRaw)}`, lineAt(kgRaw));
      if (kg.items.length > LIMITS.groups) throw new SopsConfigError(`${where}: more than ${LIMITS.groups} key groups`, lineAt(kg));
      kg.items.forEach((g, gi) => {
        const gm = deref(g);
        if (!isMap(gm)) throw new SopsConfigError(`${where}: key group ${gi + 1} must be a map (age: […]), not ${shape(g)}`, lineAt(g));
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
