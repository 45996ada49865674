/**
 * What validation works on: sightings of an identity's key in one context, and encrypted files
 * whose actual recipients are compared with what the repo says they should be.
 */
export type ContextKind = 'bitwarden' | 'clan' | 'sops-anchor' | 'keys.txt' | 'agenix' | 'ssh-host-key' | 'clan-age' | 'clan-recipients';

export const CONTEXT_LABEL: Record<ContextKind, string> = {
  bitwarden: 'Bitwarden',
  clan: 'clan key.json',
  'sops-anchor': '.sops.yaml',
  'keys.txt': 'keys.txt',
  agenix: 'secrets.nix',
  'ssh-host-key': 'SSH host key',
  'clan-age': 'clan age pub',
  'clan-recipients': 'clan.nix',
};

export interface Sighting {
  /** Identity name after alias resolution (user or host). */
  identity: string;
  /** The name as written in the context (anchor, item, directory, let-binding). */
  name: string;
  context: ContextKind;
  /** Where: file (and line) or Bitwarden item. */
  where: string;
  /** The key as an age recipient (ssh-ed25519 keys converted with ssh-to-age). */
  recipient: string;
  /** The key as written, when it differs from `recipient` (ssh-ed25519 …). */
  written?: string;
  /** For `<user>-<host>` anchors: the host this user key is for. */
  host?: string;
}

export type FileKind = 'sops' | 'clan-secret' | 'agenix' | 'clan-age-sidecar';

export interface FileCheck {
  file: string;
  kind: FileKind;
  /** Recipients the applicable rule says the file must have (as written there). May be one frozen array shared by the rule's files. */
  expected: string[];
  /** Recipients the file actually has (the `expected` array itself when they are the rule's, in order). */
  actual: string[];
  /** For age headers: anonymous X25519 stanzas (can be counted, not named). */
  anonymous?: { expected: number; actual: number };
  /** The command that re-encrypts the file to the expected recipients. */
  fix: string;
  /** Set when the expected set could not be determined (e.g. no creation rule matches). */
  note?: string;
}

/**
 * mismatch, missing, recipients, stale: the repo disagrees with itself (exit 1); invalid: a key
 * or config value no tool accepts (exit 1); plugin: a needed age plugin is not installed (exit 1);
 * unreadable: a file's content is not what its tool accepts (exit 1); unchecked: something could
 * not be read or checked at all — permissions, non-regular files, links out of the repository,
 * bounds exceeded (exit 2).
 */
export type ProblemKind = 'mismatch' | 'missing' | 'recipients' | 'stale' | 'unreadable' | 'invalid' | 'plugin' | 'unchecked';

export interface Problem {
  kind: ProblemKind;
  identity?: string;
  file?: string;
  message: string;
  fix: string;
  /** Set on a problem that follows from another one: the message of the root cause. */
  followsFrom?: string;
}

/** Exit status for a result: 2 when something could not be checked, 1 for problems, else 0. */
export function exitStatus(problems: readonly Problem[]): 0 | 1 | 2 {
  if (problems.some((p) => p.kind === 'unchecked')) return 2;
  return problems.length ? 1 : 0;
}
