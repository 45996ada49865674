/**
 * What kit plugins print for keys: identity files (a comment block, then the identity line; age
 * clients skip `#` lines, agenix-rekey and sops read some of them), recipient lists, and `--json`.
 * Identity files are written atomically with mode 0600, never over a symlink.
 */
import { writeFileAtomic } from '../../fs/atomicWrite.ts';

/** One `# label: value` comment. */
export type Comment = readonly [label: string, value: string];

export interface CommentStyle {
  /** `right`: labels right-aligned to the longest (age-plugin-yubikey); `none`: `# label: value`. */
  align: 'right' | 'none';
}

export function commentLines(comments: readonly Comment[], style: CommentStyle): string[] {
  const width = style.align === 'right' ? Math.max(0, ...comments.map(([l]) => l.length)) : 0;
  return comments.map(([label, value]) => `# ${label.padStart(width)}: ${value}`);
}

/** The comment block, then `last` (the identity line, or a recipient), newline-terminated. */
export function keyBlock(comments: readonly Comment[], last: string, style: CommentStyle): string {
  return [...commentLines(comments, style), last].join('\n') + '\n';
}

/** Writes an identity file: temp file in the same directory, 0600, fsync, rename. */
export function writeIdentityFile(path: string, text: string): Promise<void> {
  return writeFileAtomic(path, text, { secret: true });
}

/** `--json` output: two-space indented, newline-terminated. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
