/**
 * First-match rule lookup in time linear in the path, not in the number of rules: each rule's
 * `path_regex` gets the set of literals one of which every match must contain; one Aho–Corasick
 * pass over a path finds the rules whose literals occur, and only those (plus rules without a
 * usable literal) are tried, in rule order, with RE2 semantics (re2js: linear-time matching, the
 * syntax of Go's regexp that sops uses).
 */
import { RE2JS } from 're2js';

/** Literals one of which every string matching `re` contains; null when no such set is known. */
export function triggerLiterals(re: string): string[] | null {
  if (/\(\?[a-zA-Z]|\\[QE]|\\[pP]/.test(re)) return null; // flags (?i), quoting, classes by name
  const branches = splitTop(re);
  if (branches === null) return null;
  if (branches.length > 1) {
    const all: string[] = [];
    for (const b of branches) {
      const lits = triggerLiterals(b);
      if (!lits || lits.length === 0) return null;
      all.push(...lits);
    }
    return [...new Set(all)];
  }
  const b = branches[0]!;
  const inner = wholeGroup(b);
  if (inner !== null) return triggerLiterals(inner);
  const run = bestRun(b);
  return run ? [run] : null;
}

/** Splits at top-level `|`; null when brackets do not balance. */
function splitTop(re: string): string[] | null {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < re.length; i++) {
    const c = re[i]!;
    if (c === '\\') i++;
    else if (c === '[') {
      const j = classEnd(re, i);
      if (j < 0) return null;
      i = j;
    } else if (c === '(') depth++;
    else if (c === ')') {
      if (--depth < 0) return null;
    } else if (c === '|' && depth === 0) {
      out.push(re.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) return null;
  out.push(re.slice(start));
  return out;
}

/** Index of the `]` closing the class opened at `i`, or -1. */
function classEnd(re: string, i: number): number {
  let j = i + 1;
  if (re[j] === '^') j++;
  if (re[j] === ']') j++;
  for (; j < re.length; j++) {
    if (re[j] === '\\') j++;
    else if (re[j] === '[' && re[j + 1] === ':') {
      const k = re.indexOf(':]', j + 2);
      if (k < 0) return -1;
      j = k + 1;
    } else if (re[j] === ']') return j;
  }
  return -1;
}

/** Index of the `)` closing the group opened at `i`, or -1. */
function groupEnd(re: string, i: number): number {
  let depth = 0;
  for (let j = i; j < re.length; j++) {
    const c = re[j]!;
    if (c === '\\') j++;
    else if (c === '[') {
      const k = classEnd(re, j);
      if (k < 0) return -1;
      j = k;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return j;
  }
  return -1;
}

/** The inside of `(…)`, `(?:…)` or `(?P<n>…)` when that group is the whole branch (anchors aside). */
function wholeGroup(b: string): string | null {
  const s = b.replace(/^\^/, '').replace(/\$$/, '');
  if (!s.startsWith('(')) return null;
  const end = groupEnd(s, 0);
  if (end !== s.length - 1) return null;
  const body = s.slice(1, -1);
  if (body.startsWith('?:')) return body.slice(2);
  const named = /^\?P?<[A-Za-z_][A-Za-z0-9_]*>/.exec(body);
  if (named) return body.slice(named[0].length);
  if (body.startsWith('?')) return null;
  return body;
}

const LITERAL_ESCAPE = /[.\\/\-_$^*+?(){}[\]|#&~ ]/;

/** The longest run of characters every match must contain, in a branch without top-level `|`. */
function bestRun(b: string): string {
  let best = '';
  let cur = '';
  const end = () => {
    if (cur.length > best.length) best = cur;
    cur = '';
  };
  const optionalNext = (j: number) => b[j] === '*' || b[j] === '?' || b[j] === '{';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === '\\') {
      const n = b[i + 1];
      i++;
      if (n !== undefined && LITERAL_ESCAPE.test(n) && !optionalNext(i + 1)) cur += n;
      else end();
      continue;
    }
    if (c === '[' || c === '(') {
      // A class or group: nothing inside is certain to appear as is; it ends the run.
      const j = c === '[' ? classEnd(b, i) : groupEnd(b, i);
      end();
      if (j < 0) return best;
      i = j;
      continue;
    }
    if (c === '{') {
      const j = b.indexOf('}', i);
      cur = cur.slice(0, -1);
      end();
      if (j < 0) return best;
      i = j;
      continue;
    }
    if (c === '*' || c === '?') {
      cur = cur.slice(0, -1);
      end();
      continue;
    }
    if (c === '.' || c === '^' || c === '$' || c === '+' || c === ')' || c === '|') {
      end(); // after `a+`, "a" and what follows need not be adjacent to what came before
      continue;
    }
    if (optionalNext(i + 1)) {
      end();
      continue;
    }
    cur += c;
  }
  end();
  return best;
}

/** One position of a simple pattern: code points in `ranges` (flat lo, hi pairs), or not in them when `neg`. */
interface Atom {
  ranges: number[];
  neg: boolean;
  min: 0 | 1;
  many: boolean;
}

/**
 * A compiled simple pattern. `atoms` is its NFA (any path; built on first use when the pattern
 * has `segments`); `segments`, when set, is the same pattern as ASCII literals separated by `.*`
 * (a `.*` next to an anchor absorbed), matched with indexOf on paths without a newline.
 */
export interface SimpleProgram {
  source: string;
  begin: boolean;
  end: boolean;
  atoms: Atom[] | null;
  segments: string[] | null;
  segBegin: boolean;
  segEnd: boolean;
}

const PERL: Record<string, number[]> = {
  d: [48, 57],
  w: [48, 57, 65, 90, 95, 95, 97, 122],
  s: [9, 10, 12, 13, 32, 32],
};
const NOT_NEWLINE = [10, 10];
const ESCAPABLE = /[.\\/\-_$^*+?()[\]{}|#&~ !"%',:;<=>@`]/;

function accepts(a: Atom, cp: number): boolean {
  const r = a.ranges;
  let hit = false;
  for (let i = 0; i < r.length && !hit; i += 2) hit = cp >= r[i]! && cp <= r[i + 1]!;
  return hit !== a.neg;
}

function atom(ranges: number[], neg: boolean, min: 0 | 1, many: boolean): Atom {
  return { ranges, neg, min, many }; // one object shape for every atom (monomorphic matching)
}

/**
 * Parses the patterns most rules use — literals, `.`, bracket classes, `\d \w \s`, each
 * optionally followed by `*`, `+` or `?`, with `^`/`$` at the ends — with RE2's meaning (`.` is
 * any code point but newline, Perl classes are ASCII, `$` is the end of the text). Anything else
 * (groups, alternation, counts, flags) returns null and goes to re2js.
 */
function parseAtoms(re: string): { begin: boolean; end: boolean; atoms: Atom[] } | null {
  let i = 0;
  const begin = re.startsWith('^');
  if (begin) i = 1;
  let end = false;
  const atoms: Atom[] = [];
  while (i < re.length) {
    const c = re[i]!;
    let ranges: number[];
    let neg = false;
    if (c === '$' && i === re.length - 1) {
      end = true;
      i++;
      break;
    }
    if ('()|{}^$'.includes(c)) return null;
    if (c === '*' || c === '+' || c === '?') return null; // nothing to repeat (or a lazy/possessive form)
    if (c === '\\') {
      const n = re[i + 1];
      if (n === undefined) return null;
      const lower = n.toLowerCase();
      if (PERL[lower]) {
        ranges = PERL[lower]!;
        neg = n !== lower;
      } else if (ESCAPABLE.test(n)) {
        const cp = n.codePointAt(0)!;
        ranges = [cp, cp];
      } else return null;
      i += 2;
    } else if (c === '[') {
      const j = classEnd(re, i);
      if (j < 0) return null;
      let body = re.slice(i + 1, j);
      neg = body.startsWith('^');
      if (neg) body = body.slice(1);
      ranges = [];
      const cps = [...body];
      for (let k = 0; k < cps.length; k++) {
        let a = cps[k]!;
        if (a === '\\') {
          const n = cps[++k];
          if (n === undefined || /[a-zA-Z0-9]/.test(n)) return null; // \d in a class, \pN, …: to re2js
          a = n;
        } else if (a === '[') return null; // [:alpha:] and friends
        let b = a;
        if (cps[k + 1] === '-' && cps[k + 2] !== undefined && k + 2 < cps.length) {
          b = cps[k + 2]!;
          if (b === '\\' || b === '[') return null;
          k += 2;
        }
        const lo = a.codePointAt(0)!;
        const hi = b.codePointAt(0)!;
        if (hi < lo) return null; // invalid range: re2js reports it
        ranges.push(lo, hi);
      }
      if (!ranges.length) return null;
      i = j + 1;
    } else if (c === '.') {
      ranges = NOT_NEWLINE;
      neg = true;
      i++;
    } else {
      const cp = re.codePointAt(i)!;
      ranges = [cp, cp];
      i += cp > 0xffff ? 2 : 1;
    }
    const q = re[i];
    if (q === '*' || q === '+' || q === '?') {
      if (re[i + 1] === '?' || re[i + 1] === '+' || re[i + 1] === '*') return null;
      atoms.push(atom(ranges, neg, q === '+' ? 1 : 0, q !== '?'));
      i++;
    } else atoms.push(atom(ranges, neg, 1, false));
  }
  if (i < re.length) return null;
  return { begin, end, atoms };
}

/** 1: a printable ASCII character that stands for itself; 2: one that may follow `\\` as itself. */
const LITERAL_CLASS = (() => {
  const t = new Uint8Array(128);
  for (let c = 0x20; c < 0x7f; c++) if (!'\\.[]()|{}^$*+?'.includes(String.fromCharCode(c))) t[c] = 1;
  for (let c = 0; c < 128; c++) if (ESCAPABLE.test(String.fromCharCode(c))) t[c] = t[c]! | 2;
  return t;
})();

/**
 * The segments of a pattern made only of ASCII literals (plain or escaped) and `.*`, read in one
 * pass without building its NFA; null for anything else. Without a newline in the path, `^.*X`
 * is X anywhere, and so is `X.*$`.
 */
function literalForm(re: string): SimpleProgram | null {
  const begin = re.charCodeAt(0) === 0x5e; // ^
  const first = begin ? 1 : 0;
  const end = re.length > first && re.charCodeAt(re.length - 1) === 0x24 && re.charCodeAt(re.length - 2) !== 0x5c; // $ not after \
  const stop = end ? re.length - 1 : re.length;
  const segments: string[] = [];
  let cur = '';
  let from = first; // start of the literal run not yet copied into cur
  let lead = false;
  let trail = false;
  const quantifier = (c: number) => c === 0x2a || c === 0x2b || c === 0x3f; // * + ?
  for (let i = first; i < stop; i++) {
    const c = re.charCodeAt(i);
    if (c === 0x2e && re.charCodeAt(i + 1) === 0x2a) {
      // .*
      if (i + 1 >= stop || quantifier(re.charCodeAt(i + 2))) return null;
      if (i === first) lead = true;
      if (i + 2 === stop) trail = true;
      cur += re.slice(from, i);
      if (cur) segments.push(cur);
      cur = '';
      i++;
      from = i + 1;
      continue;
    }
    if (c === 0x5c) {
      const q = re.charCodeAt(i + 1);
      if (i + 1 >= stop || !(q < 128 && LITERAL_CLASS[q]! & 2)) return null;
      cur += re.slice(from, i);
      from = i + 1; // the escaped character is copied with the run after it
      i++;
    } else if (!(c < 128 && LITERAL_CLASS[c]! & 1)) return null;
    if (quantifier(re.charCodeAt(i + 1))) return null;
  }
  cur += re.slice(from, stop);
  if (cur) segments.push(cur);
  return { source: re, begin, end, atoms: null, segments, segBegin: begin && !lead, segEnd: end && !trail };
}

/**
 * A simple pattern (see parseAtoms), or null when re2js must match it: the literal form when
 * the pattern has one, else its NFA.
 */
export function parseSimple(re: string): SimpleProgram | null {
  const lit = literalForm(re);
  if (lit) return lit;
  const a = parseAtoms(re);
  return a ? { source: re, ...a, segments: null, segBegin: false, segEnd: false } : null;
}

/** ASCII literals in order with anything between them: leftmost occurrences decide (greedy). */
function matchSegments(p: SimpleProgram, s: string): boolean {
  const segs = p.segments!;
  const k = segs.length;
  if (k === 0) return !(p.segBegin && p.segEnd) || s.length === 0;
  let pos = 0;
  for (let i = 0; i < k; i++) {
    const lit = segs[i]!;
    if (i === 0 && p.segBegin) {
      if (!s.startsWith(lit)) return false;
      pos = lit.length;
      if (k === 1 && p.segEnd) return s.length === pos;
    } else if (i === k - 1 && p.segEnd) {
      return s.length - lit.length >= pos && s.endsWith(lit);
    } else {
      const j = s.indexOf(lit, pos);
      if (j < 0) return false;
      pos = j + lit.length;
    }
  }
  return true;
}

// NFA simulation state, shared by every program (matching is synchronous). State k: atoms[0..k)
// matched. The active states are kept as a list (usually one or two), so a step costs the active
// states, not the pattern length.
let cur = new Int32Array(64);
let next = new Int32Array(64);
let mark = new Int32Array(64); // mark[k] === stamp: k is in `next`
let stamp = 0;
let nextLen = 0;
let accept = false;

function add(atoms: Atom[], k: number): void {
  // k and every state reachable from it by skipping optional atoms
  const n = atoms.length;
  while (mark[k] !== stamp) {
    mark[k] = stamp;
    if (k === n) {
      accept = true;
      return;
    }
    next[nextLen++] = k;
    if (atoms[k]!.min === 0) k++;
    else return;
  }
}

function step(): void {
  stamp++;
  if (stamp === 0x3fffffff) {
    mark.fill(-1);
    stamp = 1;
  }
  nextLen = 0;
  accept = false;
}

/** Linear-time simulation of the pattern's NFA (any path). */
function matchNfa(p: SimpleProgram, s: string): boolean {
  const atoms = (p.atoms ??= parseAtoms(p.source)!.atoms);
  const n = atoms.length;
  if (mark.length < n + 1) {
    cur = new Int32Array(2 * n + 2);
    next = new Int32Array(2 * n + 2);
    mark = new Int32Array(2 * n + 2).fill(-1);
  }
  step();
  add(atoms, 0);
  if (accept && !p.end) return true;
  let t = cur;
  cur = next;
  next = t;
  let curLen = nextLen;
  for (let i = 0; i < s.length; i++) {
    const cp = s.codePointAt(i)!;
    if (cp > 0xffff) i++;
    step();
    if (!p.begin) add(atoms, 0);
    for (let j = 0; j < curLen; j++) {
      const k = cur[j]!;
      const a = atoms[k]!;
      if (!accepts(a, cp)) continue;
      if (a.many) add(atoms, k); // stay on a repeated atom (its min is met now)
      add(atoms, k + 1);
    }
    if (accept && !p.end) return true;
    t = cur;
    cur = next;
    next = t;
    curLen = nextLen;
    if (curLen === 0 && p.begin) return accept && i + 1 >= s.length; // nothing can start later
  }
  return accept;
}

/** Whether the simple pattern matches anywhere in `s` (anchors as written), like RE2. */
export function matchSimple(p: SimpleProgram, s: string): boolean {
  return p.segments !== null && s.indexOf('\n') < 0 ? matchSegments(p, s) : matchNfa(p, s);
}

/** A matcher for a simple pattern (see parseSimple), or null when re2js must match it. */
export function compileSimple(re: string): ((s: string) => boolean) | null {
  const p = parseSimple(re);
  return p ? (s) => matchSimple(p, s) : null;
}

/** Aho–Corasick automaton over literals: which of them occur in a string, in one pass. */
class Automaton {
  private readonly next: Map<number, number>[] = [new Map()];
  private readonly fail: number[] = [0];
  private readonly out: number[][] = [[]];
  /** Nearest state on the failure chain with output (dictionary suffix link). */
  private readonly dict: number[] = [-1];

  constructor(words: string[]) {
    words.forEach((w, id) => {
      let s = 0;
      for (let i = 0; i < w.length; i++) {
        const c = w.charCodeAt(i);
        let t = this.next[s]!.get(c);
        if (t === undefined) {
          t = this.next.length;
          this.next.push(new Map());
          this.fail.push(0);
          this.out.push([]);
          this.dict.push(-1);
          this.next[s]!.set(c, t);
        }
        s = t;
      }
      this.out[s]!.push(id);
    });
    const queue: number[] = [];
    for (const t of this.next[0]!.values()) queue.push(t);
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q]!;
      for (const [c, t] of this.next[s]!) {
        let f = this.fail[s]!;
        while (f !== 0 && !this.next[f]!.has(c)) f = this.fail[f]!;
        const g = this.next[f]!.get(c);
        this.fail[t] = g !== undefined && g !== t ? g : 0;
        const ft = this.fail[t]!;
        this.dict[t] = this.out[ft]!.length ? ft : this.dict[ft]!;
        queue.push(t);
      }
    }
  }

  /** Ids of the words occurring in `text` (each at least once), appended to `found`. */
  find(text: string, found: number[]): void {
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      while (s !== 0 && !this.next[s]!.has(c)) s = this.fail[s]!;
      s = this.next[s]!.get(c) ?? 0;
      for (let d = this.out[s]!.length ? s : this.dict[s]!; d > 0; d = this.dict[d]!) for (const id of this.out[d]!) found.push(id);
    }
  }
}

const ascending = (a: number, b: number) => a - b;

export class RuleCompileError extends Error {
  constructor(
    readonly ruleIndex: number,
    message: string,
  ) {
    super(message);
    this.name = 'RuleCompileError';
  }
}

export interface IndexedRule {
  /** null: matches every path (empty or absent path_regex). */
  pathRegex: string | null;
}

export class RuleIndex<R extends IndexedRule> {
  /** Per rule: a simple program, an re2js pattern, or null (matches every path). */
  private readonly simple: (SimpleProgram | null)[] = [];
  private readonly full: (RE2JS | null)[] = [];
  private readonly always: number[] = [];
  private readonly automaton: Automaton;
  private readonly wordRules: number[][] = [];
  private readonly found: number[] = [];
  private readonly candidates: number[] = [];

  /** Throws with the rule's position when a path_regex is not valid RE2 syntax. */
  constructor(private readonly rules: readonly R[]) {
    const words = new Map<string, number>();
    rules.forEach((r, i) => {
      this.simple.push(null);
      this.full.push(null);
      if (r.pathRegex === null || r.pathRegex === '') {
        this.always.push(i);
        return;
      }
      const p = parseSimple(r.pathRegex);
      if (p) this.simple[i] = p;
      else {
        try {
          this.full[i] = RE2JS.compile(r.pathRegex);
        } catch (e) {
          throw new RuleCompileError(i, (e as Error).message);
        }
      }
      const lits = triggerLiterals(r.pathRegex);
      if (!lits) this.always.push(i);
      else
        for (const l of lits) {
          let id = words.get(l);
          if (id === undefined) {
            id = words.size;
            words.set(l, id);
            this.wordRules.push([]);
          }
          this.wordRules[id]!.push(i);
        }
    });
    this.automaton = new Automaton([...words.keys()]);
  }

  private test(i: number, path: string): boolean {
    const p = this.simple[i];
    if (p) return matchSimple(p, path);
    const f = this.full[i];
    return !f || f.test(path);
  }

  /** The first rule (in order) whose path_regex matches anywhere in `path`, like sops. */
  match(path: string): R | undefined {
    const words = this.found;
    words.length = 0;
    this.automaton.find(path, words);
    const candidates = this.candidates;
    candidates.length = 0;
    for (const i of this.always) candidates.push(i);
    for (const w of words) for (const r of this.wordRules[w]!) candidates.push(r);
    if (candidates.length > 1) candidates.sort(ascending);
    for (let j = 0; j < candidates.length; j++) {
      const i = candidates[j]!;
      if (j > 0 && candidates[j - 1] === i) continue;
      if (this.test(i, path)) return this.rules[i];
    }
    return undefined;
  }
}
