/**
 * Nix files of a secrets repo (agenix `secrets.nix`, clan's `clan.nix`): evaluated with
 * `nix-instantiate --eval --strict --json` in restricted mode (nothing outside the repository
 * can be read) when Nix is installed, else read by a parser for the common subset: a function
 * header (`{ inputs, ... }:`), `let` bindings of strings, lists and attribute sets, `++`,
 * attribute paths. In lenient mode values outside the subset are skipped (as UNKNOWN) instead of
 * failing the whole file, for files like clan.nix that hold much more than keys.
 */
import { execFileSync } from 'node:child_process';

export type NixValue = string | NixValue[] | { [k: string]: NixValue } | boolean | number | null | typeof UNKNOWN;
export const UNKNOWN: unique symbol = Symbol('outside the supported subset');

const MAX_DEPTH = 200;
const MAX_LIST = 100_000;

export class NixSubsetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NixSubsetError';
  }
}

/**
 * The value of a Nix `"…"` literal (quotes included): `\n`, `\r`, `\t`, and a backslash before
 * any other character (`\"`, `\\`, `\$`, `\q`) stands for that character; control characters
 * and newlines stand for themselves.
 */
function nixStringValue(raw: string): string {
  const body = raw.slice(1, -1);
  if (!body.includes('\\')) return body;
  return body.replace(/\\([\s\S])/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c));
}

export class NixParser {
  private i = 0;
  private depth = 0;
  /** Bindings of the outermost `let` (names of keys in secrets.nix). */
  readonly topBindings = new Map<string, NixValue>();
  constructor(
    private readonly s: string,
    private readonly label: string,
    private readonly lenient = false,
  ) {}

  private ws(): void {
    for (;;) {
      const m = /^(\s+|#[^\n]*|\/\*[\s\S]*?\*\/)/.exec(this.s.slice(this.i, this.i + 4096));
      if (!m) return;
      this.i += m[0].length;
    }
  }
  private peek(re: RegExp): RegExpExecArray | null {
    this.ws();
    return re.exec(this.s.slice(this.i, this.i + 65536));
  }
  private take(re: RegExp, what: string): string {
    const m = this.peek(re);
    if (!m) throw new NixSubsetError(`${this.label}: expected ${what} at offset ${this.i}`);
    this.i += m[0].length;
    return m[0];
  }

  /** Skips one value up to the `;` (or closing bracket) that ends it, balancing brackets and strings. */
  private skipValue(): void {
    let depth = 0;
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === '"') {
        const m = /^"(?:[^"\\]|\\.)*"/s.exec(this.s.slice(this.i));
        // Unterminated: the rest of the file is inside the string (rescanning it from each later
        // quote would be quadratic).
        this.i = m ? this.i + m[0].length : this.s.length;
        continue;
      }
      if (c === "'" && this.s[this.i + 1] === "'") {
        const end = this.s.indexOf("''", this.i + 2);
        this.i = end < 0 ? this.s.length : end + 2;
        continue;
      }
      if (c === '#') {
        const end = this.s.indexOf('\n', this.i);
        this.i = end < 0 ? this.s.length : end;
        continue;
      }
      if ('([{'.includes(c)) depth++;
      else if (')]}'.includes(c)) {
        if (depth === 0) return;
        depth--;
      } else if (c === ';' && depth === 0) return;
      this.i++;
    }
  }

  parseTop(env: Map<string, NixValue>): NixValue {
    // A function header: `{ a, b ? x, ... }:`, `args@{ … }:`, `{ … }@args:` or `x:`.
    const header = this.peek(/^(?:[A-Za-z_][\w'-]*\s*@\s*)?\{[^{}]*\}\s*(?:@\s*[A-Za-z_][\w'-]*\s*)?:(?!\/)|^[A-Za-z_][\w'-]*\s*:(?![\/\w])/);
    if (header) this.i += header[0].length;
    return this.expr(env);
  }

  private letIn(env: Map<string, NixValue>): Map<string, NixValue> {
    const scope = new Map(env);
    this.take(/^let\b/, 'let');
    while (!this.peek(/^in\b/)) {
      if (this.i >= this.s.length) throw new NixSubsetError(`${this.label}: let without in`);
      if (this.peek(/^inherit\b/)) {
        this.take(/^inherit\b/, 'inherit');
        this.skipValue();
        this.take(/^;/, ';');
        continue;
      }
      const name = this.take(/^[A-Za-z_][A-Za-z0-9_'-]*/, 'a binding name');
      if (this.peek(/^\./)) {
        if (!this.lenient) throw new NixSubsetError(`${this.label}: attribute paths in let are outside the supported subset`);
        this.skipValue();
        this.take(/^;/, ';');
        continue;
      }
      this.take(/^=/, '=');
      scope.set(name, this.valueOrSkip(scope));
      this.take(/^;/, ';');
    }
    this.take(/^in\b/, 'in');
    if (this.topBindings.size === 0) for (const [k, v] of scope) if (!env.has(k)) this.topBindings.set(k, v);
    return scope;
  }

  private valueOrSkip(env: Map<string, NixValue>): NixValue {
    if (!this.lenient) return this.expr(env);
    const at = this.i;
    try {
      const v = this.expr(env);
      if (this.peek(/^[;}\]]/)) return v;
    } catch (e) {
      if (!(e instanceof NixSubsetError)) throw e;
    }
    this.i = at;
    this.skipValue();
    return UNKNOWN;
  }

  private expr(env: Map<string, NixValue>): NixValue {
    if (++this.depth > MAX_DEPTH) throw new NixSubsetError(`${this.label}: nested deeper than ${MAX_DEPTH}`);
    try {
      if (this.peek(/^let\b/)) return this.expr(this.letIn(env));
      let v = this.term(env);
      while (this.peek(/^\+\+/)) {
        this.take(/^\+\+/, '++');
        const r = this.term(env);
        if (!Array.isArray(v) || !Array.isArray(r)) throw new NixSubsetError(`${this.label}: ++ needs lists`);
        if (v.length + r.length > MAX_LIST) throw new NixSubsetError(`${this.label}: a list longer than ${MAX_LIST}`);
        v = [...v, ...r];
      }
      return v;
    } finally {
      this.depth--;
    }
  }

  private term(env: Map<string, NixValue>): NixValue {
    if (this.peek(/^"/)) {
      const raw = this.take(/^"(?:[^"\\]|\\.)*"/s, 'a string');
      if (/(^|[^\\])\$\{/.test(raw)) throw new NixSubsetError(`${this.label}: string interpolation is outside the supported subset`);
      return nixStringValue(raw);
    }
    if (this.peek(/^\[/)) {
      if (this.depth >= MAX_DEPTH) throw new NixSubsetError(`${this.label}: nested deeper than ${MAX_DEPTH}`);
      this.take(/^\[/, '[');
      const items: NixValue[] = [];
      while (!this.peek(/^\]/)) {
        if (this.i >= this.s.length) throw new NixSubsetError(`${this.label}: unterminated list`);
        if (items.length >= MAX_LIST) throw new NixSubsetError(`${this.label}: a list longer than ${MAX_LIST}`);
        this.depth++;
        try {
          items.push(this.term(env));
        } finally {
          this.depth--;
        }
      }
      this.take(/^\]/, ']');
      return items;
    }
    if (this.peek(/^\{/)) return this.attrs(env);
    if (this.peek(/^\(/)) {
      this.take(/^\(/, '(');
      const v = this.expr(env);
      this.take(/^\)/, ')');
      return v;
    }
    if (this.peek(/^-?\d+\b/)) return Number(this.take(/^-?\d+/, 'a number'));
    if (this.peek(/^(true|false|null)\b/)) {
      const w = this.take(/^(true|false|null)\b/, 'a literal');
      return w === 'null' ? null : w === 'true';
    }
    const name = this.take(/^[A-Za-z_][A-Za-z0-9_'-]*/, 'a value');
    if (!env.has(name)) throw new NixSubsetError(`${this.label}: unknown name "${name.slice(0, 60)}" (outside the supported subset)`);
    return env.get(name)!;
  }

  private attrs(env: Map<string, NixValue>): NixValue {
    this.take(/^\{/, '{');
    // Null-prototype objects: an attribute named `__proto__` (or `constructor`) is an ordinary
    // name, never the object's prototype.
    const out: Record<string, NixValue> = Object.create(null);
    while (!this.peek(/^\}/)) {
      if (this.i >= this.s.length) throw new NixSubsetError(`${this.label}: unterminated attribute set`);
      if (this.peek(/^inherit\b/)) {
        this.take(/^inherit\b/, 'inherit');
        this.skipValue();
        this.take(/^;/, ';');
        continue;
      }
      const path: string[] = [];
      do {
        if (path.length) this.take(/^\./, '.');
        path.push(this.peek(/^"/) ? nixStringValue(this.take(/^"(?:[^"\\]|\\.)*"/, 'a name')) : this.take(/^[A-Za-z_][A-Za-z0-9_'-]*/, 'an attribute name'));
      } while (this.peek(/^\./));
      this.take(/^=/, '=');
      const v = this.valueOrSkip(env);
      this.take(/^;/, ';');
      let o = out;
      for (const k of path.slice(0, -1)) {
        const cur = Object.hasOwn(o, k) ? o[k] : undefined;
        o = (cur && typeof cur === 'object' && !Array.isArray(cur) ? cur : (o[k] = Object.create(null))) as Record<string, NixValue>;
      }
      const last = path[path.length - 1]!;
      const prev = Object.hasOwn(o, last) ? o[last] : undefined;
      if (prev && typeof prev === 'object' && !Array.isArray(prev) && typeof v === 'object' && v && !Array.isArray(v)) Object.assign(prev, v);
      else o[last] = v;
    }
    this.take(/^\}/, '}');
    return out;
  }
}

/**
 * Evaluates `file` (absolute) with Nix in restricted mode, allowed to read only below `root`;
 * `select` is a Nix function applied to the file's value (e.g. to pick one attribute before
 * --strict forces it). Returns null when Nix is not installed; throws with Nix's first error line.
 */
export function nixEvalJson(root: string, file: string, select?: string): unknown {
  const expr = select ? `(${select}) (import ${JSON.stringify(file)})` : undefined;
  const args = ['--eval', '--strict', '--json', '--option', 'restrict-eval', 'true', '-I', `repo=${root}`, ...(expr ? ['--expr', expr] : [file])];
  try {
    const json = execFileSync('nix-instantiate', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, maxBuffer: 64 << 20, env: { ...process.env, NIX_PATH: '' } });
    return JSON.parse(json);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    const stderr = String((e as { stderr?: unknown }).stderr ?? '');
    const first = stderr.split('\n').find((l) => /error/.test(l)) ?? (e as Error).message;
    throw new Error(`nix-instantiate: ${first.replace(/\u001b\[[0-9;]*m/g, '').trim().slice(0, 200)}`);
  }
}
