/**
 * What validation works on: sightings of an identity's key in one context, and encrypted files
 * whose actual recipients are compared with what the repo says they should be.
 */
export type ContextKind = 'bitwarden' | 'clan' | 'sops-anchor' | 'keys.txt' | 'agenix' | 'ssh-host-key' | 'clan-age';

export const CONTEXT_LABEL: Record<ContextKind, string> = {
  bitwarden: 'Bitwarden',
  clan: 'clan key.json',
  'sops-anchor': '.sops.yaml',
  'keys.txt': 'keys.txt',
  agenix: 'secrets.nix',
  'ssh-host-key': 'SSH host key',
  'clan-age': 'clan age pub',
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
}

export type FileKind = 'sops' | 'clan-secret' | 'agenix' | 'clan-age-sidecar';

export interface FileCheck {
  file: string;
  kind: FileKind;
  /** Recipients the applicable rule says the file must have (as written there). */
  expected: string[];
  /** Recipients the file actually has. */
  actual: string[];
  /** For age headers: anonymous X25519 stanzas (can be counted, not named). */
  anonymous?: { expected: number; actual: number };
  /** The command that re-encrypts the file to the expected recipients. */
  fix: string;
  /** Set when the expected set could not be determined (e.g. no creation rule matches). */
  note?: string;
}

export interface Problem {
  kind: 'mismatch' | 'missing' | 'recipients' | 'stale' | 'unreadable';
  identity?: string;
  file?: string;
  message: string;
  fix: string;
}
