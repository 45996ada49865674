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

/** One position of a simple pattern: a set of code points, optionally repeated. */
/** One position of a simple pattern: code points in `ranges` (flat lo, hi pairs), or not in them when `neg`. */
interface Atom {
  ranges: number[];
  neg: boolean;
  min: 0 | 1;
  many: boolean;
}

const PERL: Record<string, number[]> = {
  d: [48, 57],
  w: [48, 57, 65, 90, 95, 95, 97, 122],
  s: [9, 10, 12, 13, 32, 32],
};

function accepts(a: Atom, cp: number): boolean {
  const r = a.ranges;
  let hit = false;
  for (let i = 0; i < r.length && !hit; i += 2) hit = cp >= r[i]! && cp <= r[i + 1]!;
  return hit !== a.neg;
}

/**
 * A matcher for the patterns most rules use — literals, `.`, bracket classes, `\d \w \s`, each
 * optionally followed by `*`, `+` or `?`, with `^`/`$` at the ends — by NFA simulation (linear
 * in the path, like RE2, and with RE2's meaning: `.` is any code point but newline, Perl classes
 * are ASCII). Anything else (groups, alternation, counts, flags) returns null and goes to re2js.
 */
export function compileSimple(re: string): ((s: string) => boolean) | null {
  let i = 0;
  const begin = re.startsWith('^');
  if (begin) i = 1;
  let end = false;
  const atoms: Atom[] = [];
  while (i < re.length) {
    const c = re[i]!;
    let test: { ranges: number[]; neg: boolean } | null = null;
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
        test = { ranges: PERL[lower]!, neg: n !== lower };
      } else if (/[.\\/\-_$^*+?()[\]{}|#&~ !"%',:;<=>@`]/.test(n)) {
        const cp = n.codePointAt(0)!;
        test = { ranges: [cp, cp], neg: false };
      } else return null;
      i += 2;
    } else if (c === '[') {
      const j = classEnd(re, i);
      if (j < 0) return null;
      let body = re.slice(i + 1, j);
      const neg = body.startsWith('^');
      if (neg) body = body.slice(1);
      const ranges: [number, number][] = [];
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
        ranges.push([lo, hi]);
      }
      if (!ranges.length) return null;
      test = { ranges: ranges.flat(), neg };
      i = j + 1;
    } else if (c === '.') {
      test = { ranges: [10, 10], neg: true };
      i++;
    } else {
      const cp = re.codePointAt(i)!;
      test = { ranges: [cp, cp], neg: false };
      i += cp > 0xffff ? 2 : 1;
    }
    const q = re[i];
    if (q === '*' || q === '+' || q === '?') {
      if (re[i + 1] === '?' || re[i + 1] === '+' || re[i + 1] === '*') return null;
      atoms.push({ ...test, min: q === '+' ? 1 : 0, many: q !== '?' });
      i++;
    } else atoms.push({ ...test, min: 1, many: false });
  }
  if (i < re.length) return null;
  const n = atoms.length;
  // State k: atoms[0..k) matched. The active states are kept as a list (usually one or two), so a
  // step costs the active states, not the pattern length. Buffers are reused (matching is synchronous).
  let cur = new Int32Array(n + 1);
  let next = new Int32Array(n + 1);
  const mark = new Int32Array(n + 1); // mark[k] === stamp: k is in `next`
  let stamp = 0;
  let curLen = 0;
  let nextLen = 0;
  let accept = false;
  const add = (k: number) => {
    // k and every state reachable from it by skipping optional atoms
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
  };
  return (s: string) => {
    stamp++;
    nextLen = 0;
    accept = false;
    add(0);
    if (accept && !end) return true;
    [cur, next] = [next, cur];
    curLen = nextLen;
    for (let i = 0; i < s.length; i++) {
      const cp = s.codePointAt(i)!;
      if (cp > 0xffff) i++;
      stamp++;
      nextLen = 0;
      accept = false;
      if (!begin) add(0);
      for (let j = 0; j < curLen; j++) {
        const k = cur[j]!;
        const atom = atoms[k]!;
        if (!accepts(atom, cp)) continue;
        if (atom.many) add(k); // stay on a repeated atom (its min is met now)
        add(k + 1);
      }
      if (accept && !end) return true;
      [cur, next] = [next, cur];
      curLen = nextLen;
      if (curLen === 0 && begin) return accept && i + 1 >= s.length; // nothing can start later
    }
    return accept;
  };
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
  private readonly compiled: (((s: string) => boolean) | null)[];
  private readonly always: number[] = [];
  private readonly automaton: Automaton;
  private readonly wordRules: number[][] = [];

  /** Throws with the rule's position when a path_regex is not valid RE2 syntax. */
  constructor(private readonly rules: readonly R[]) {
    const words = new Map<string, number>();
    this.compiled = rules.map((r, i) => {
      if (r.pathRegex === null || r.pathRegex === '') {
        this.always.push(i);
        return null;
      }
      let re = compileSimple(r.pathRegex);
      if (!re) {
        try {
          const full = RE2JS.compile(r.pathRegex);
          re = (s) => full.test(s);
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
      return re;
    });
    this.automaton = new Automaton([...words.keys()]);
  }

  /** The first rule (in order) whose path_regex matches anywhere in `path`, like sops. */
  match(path: string): R | undefined {
    const words: number[] = [];
    this.automaton.find(path, words);
    const candidates = this.always.slice();
    for (const w of words) for (const r of this.wordRules[w]!) candidates.push(r);
    if (candidates.length > 1) candidates.sort(ascending);
    for (let j = 0; j < candidates.length; j++) {
      const i = candidates[j]!;
      if (j > 0 && candidates[j - 1] === i) continue;
      const re = this.compiled[i];
      if (re === null || re!(path)) return this.rules[i];
    }
    return undefined;
  }
}
