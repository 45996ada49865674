/**
 * agenix `secrets.nix`: `{ "<file>.age".publicKeys = [ … ]; }` — evaluated with Nix in
 * restricted mode when it is installed, else read by the subset parser (readers/nix.ts). The let
 * bindings also name keys: `crs58 = "ssh-ed25519 …";` is the identity crs58.
 */
import { NixParser, NixSubsetError, nixEvalJson, type NixValue } from './nix.ts';

export interface AgenixRules {
  /** file (as written) → recipients */
  files: Map<string, string[]>;
  /** let-bound names of single keys → key string */
  names: Map<string, string>;
  evaluatedWith: 'nix' | 'parser';
}

export const MAX_AGENIX_FILES = 100_000;

function collect(top: unknown, names: Map<string, string>, evaluatedWith: AgenixRules['evaluatedWith']): AgenixRules {
  const files = new Map<string, string[]>();
  if (!top || typeof top !== 'object' || Array.isArray(top)) throw new Error('secrets.nix must evaluate to an attribute set of "<file>.age" = { publicKeys = [ … ]; }');
  for (const [file, v] of Object.entries(top as Record<string, unknown>)) {
    if (files.size >= MAX_AGENIX_FILES) throw new Error(`secrets.nix names more than ${MAX_AGENIX_FILES} files`);
    const keys = (v as { publicKeys?: unknown })?.publicKeys;
    if (Array.isArray(keys)) files.set(file, keys.filter((k): k is string => typeof k === 'string'));
  }
  return { files, names, evaluatedWith };
}

function parse(text: string, lenient: boolean): { top: NixValue; names: Map<string, string> } {
  const env = new Map<string, NixValue>();
  const p = new NixParser(text, 'secrets.nix', lenient);
  const top = p.parseTop(env);
  const names = new Map<string, string>();
  // Names bound in the top-level let (the parser records them on the first let it meets).
  for (const [k, v] of p.topBindings) if (typeof v === 'string') names.set(k, v);
  return { top, names };
}

export function parseSecretsNix(text: string): AgenixRules {
  const { top, names } = parse(text, false);
  return collect(top, names, 'parser');
}

/**
 * Evaluates with Nix when available (names still come from the subset parser when it can read
 * them); `path` is absolute and inside `root`, the only tree the evaluation may read.
 */
export function readSecretsNix(path: string, text: string, root = path.replace(/\/[^/]*$/, '')): AgenixRules {
  let names = new Map<string, string>();
  try {
    names = parse(text, true).names;
  } catch {
    /* names are a convenience */
  }
  let viaNix: unknown;
  try {
    viaNix = nixEvalJson(root, path);
  } catch (nixError) {
    // Nix failed (e.g. the file needs <nixpkgs>, absent here): the subset parser may still read it.
    try {
      return parseSecretsNix(text);
    } catch {
      throw nixError;
    }
  }
  if (viaNix !== null) return collect(viaNix, names, 'nix');
  try {
    return parseSecretsNix(text);
  } catch (e) {
    // Without Nix only the subset can be read: say how to get the whole language.
    if (e instanceof NixSubsetError) throw new NixSubsetError(`${e.message}; Nix is not installed here, so only a subset of the language can be read — install Nix (nix-instantiate) to evaluate it`);
    throw e;
  }
}
