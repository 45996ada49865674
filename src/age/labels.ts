/**
 * Recipient labels (C2SP age-plugin.md "labels"; Go age.Encrypt): every stanza of one file key
 * must carry the same label set. Post-quantum stanzas carry `postquantum`, so a file cannot be
 * encrypted to both a post-quantum and a classic recipient, which would leave it open to a
 * quantum computer through the classic stanza.
 */
export const POSTQUANTUM = 'postquantum';

const PQ_TYPES = new Set(['mlkem768x25519', 'mlkem768p256tag']);

/** The label set a stanza of this type carries (native types; plugins say theirs with `labels`). */
export function stanzaLabels(type: string): string[] {
  return PQ_TYPES.has(type) ? [POSTQUANTUM] : [];
}

/** Go's %q of a []string: ["a" "b"]. */
function quoteSet(s: readonly string[]): string {
  return `[${s.map((x) => JSON.stringify(x)).join(' ')}]`;
}

/**
 * Checks that all label sets are equal, as Go age does before writing a header; returns Go's
 * error text for the first pair that differs, or null.
 */
export function labelMixError(sets: readonly (readonly string[])[]): string | null {
  const sorted = sets.map((s) => [...s].sort());
  const first = sorted[0];
  if (!first) return null;
  for (const other of sorted.slice(1)) {
    if (other.length === first.length && other.every((l, i) => l === first[i])) continue;
    if (first.includes(POSTQUANTUM) !== other.includes(POSTQUANTUM)) {
      return "incompatible recipients: can't mix post-quantum and classic recipients, or the file would be vulnerable to quantum computers";
    }
    return `incompatible recipients: ${quoteSet(first)} and ${quoteSet(other)} can't be mixed`;
  }
  return null;
}
