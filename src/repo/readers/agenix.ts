/**
 * agenix `secrets.nix`: `{ "<file>.age".publicKeys = [ … ]; }` — evaluated with
 * `nix-instantiate --eval --strict --json` when Nix is installed, else read by a parser for the
 * common subset (a `let` of strings and lists, `++`, attribute sets with `publicKeys`). The let
 * bindings also name keys: `crs58 = "ssh-ed25519 …";` is the identity crs58.
 */
import { execFileSync } from 'node:child_process';

export interface AgenixRules {
  /** file (as written) → recipients */
  files: Map<string, string[]>;
  /** let-bound names of single keys → key string */
  names: Map<string, string>;
  evaluatedWith: 'nix' | 'parser';
}

type Value = string | Value[] | { [k: string]: Value } | boolean | null;

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  private ws(): void {
    for (;;) {
      const m = /^(\s+|#[^\n]*|\/\*[\s\S]*?\*\/)/.exec(this.s.slice(this.i));
      if (!m) return;
      this.i += m[0].length;
    }
  }
  private peek(re: RegExp): RegExpExecArray | null {
    this.ws();
    return re.exec(this.s.slice(this.i));
  }
  private take(re: RegExp, what: string): string {
    const m = this.peek(re);
    if (!m) throw new Error(`secrets.nix: expected ${what} at offset ${this.i}`);
    this.i += m[0].length;
    return m[0];
  }

  parseTop(env: Map<string, Value>): Value {
    if (this.peek(/^let\b/)) {
      this.take(/^let\b/, 'let');
      while (!this.peek(/^in\b/)) {
        const name = this.take(/^[A-Za-z_][A-Za-z0-9_'-]*/, 'a binding name');
        this.take(/^=/, '=');
        env.set(name, this.expr(env));
        this.take(/^;/, ';');
      }
      this.take(/^in\b/, 'in');
    }
    return this.expr(env);
  }

  private expr(env: Map<string, Value>): Value {
    let v = this.term(env);
    while (this.peek(/^\+\+/)) {
      this.take(/^\+\+/, '++');
      const r = this.term(env);
      if (!Array.isArray(v) || !Array.isArray(r)) throw new Error('secrets.nix: ++ needs lists');
      v = [...v, ...r];
    }
    return v;
  }

  private term(env: Map<string, Value>): Value {
    if (this.peek(/^"/)) {
      const raw = this.take(/^"(?:[^"\\]|\\.)*"/, 'a string');
      if (raw.includes('${')) throw new Error('secrets.nix: string interpolation is outside the supported subset');
      return JSON.parse(raw.replace(/\\\$/g, '$')) as string;
    }
    if (this.peek(/^\[/)) {
      this.take(/^\[/, '[');
      const items: Value[] = [];
      while (!this.peek(/^\]/)) items.push(this.term(env));
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
    if (this.peek(/^(true|false|null)\b/)) {
      const w = this.take(/^(true|false|null)\b/, 'a literal');
      return w === 'null' ? null : w === 'true';
    }
    const name = this.take(/^[A-Za-z_][A-Za-z0-9_'-]*/, 'a value');
    if (!env.has(name)) throw new Error(`secrets.nix: unknown name "${name}" (outside the supported subset)`);
    return env.get(name)!;
  }

  private attrs(env: Map<string, Value>): Value {
    this.take(/^\{/, '{');
    const out: Record<string, Value> = {};
    while (!this.peek(/^\}/)) {
      const path: string[] = [];
      do {
        if (path.length) this.take(/^\./, '.');
        path.push(this.peek(/^"/) ? (JSON.parse(this.take(/^"(?:[^"\\]|\\.)*"/, 'a name')) as string) : this.take(/^[A-Za-z_][A-Za-z0-9_'-]*/, 'an attribute name'));
      } while (this.peek(/^\./));
      this.take(/^=/, '=');
      const v = this.expr(env);
      this.take(/^;/, ';');
      let o = out;
      for (const k of path.slice(0, -1)) o = (o[k] ??= {}) as Record<string, Value>;
      const last = path[path.length - 1]!;
      if (o[last] && typeof o[last] === 'object' && !Array.isArray(o[last]) && typeof v === 'object' && v && !Array.isArray(v)) Object.assign(o[last] as object, v);
      else o[last] = v;
    }
    this.take(/^\}/, '}');
    return out;
  }
}

function collect(top: Value, names: Map<string, string>, evaluatedWith: AgenixRules['evaluatedWith']): AgenixRules {
  const files = new Map<string, string[]>();
  if (top && typeof top === 'object' && !Array.isArray(top)) {
    for (const [file, v] of Object.entries(top)) {
      const keys = (v as { publicKeys?: Value })?.publicKeys;
      if (Array.isArray(keys)) files.set(file, keys.filter((k): k is string => typeof k === 'string'));
    }
  }
  return { files, names, evaluatedWith };
}

export function parseSecretsNix(text: string): AgenixRules {
  const env = new Map<string, Value>();
  const top = new Parser(text).parseTop(env);
  const names = new Map<string, string>();
  for (const [k, v] of env) if (typeof v === 'string') names.set(k, v);
  return collect(top, names, 'parser');
}

/** Evaluates with Nix when available (names still come from the subset parser when it can read them). */
export function readSecretsNix(path: string, text: string): AgenixRules {
  let names = new Map<string, string>();
  try {
    names = parseSecretsNix(text).names;
  } catch {
    /* names are a convenience */
  }
  try {
    const json = execFileSync('nix-instantiate', ['--eval', '--strict', '--json', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 });
    return collect(JSON.parse(json) as Value, names, 'nix');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !/ENOENT|not found/.test(String((e as Error).message))) {
      // Nix is there but failed: fall back to the parser, which reports its own errors.
    }
    return parseSecretsNix(text);
  }
}
