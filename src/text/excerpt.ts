/**
 * Bounded echoes: input quoted in a message is cut to a short excerpt and made printable, so a
 * 10 MB line (or a key) never lands on stderr whole and control characters cannot rewrite the
 * terminal.
 */

/** At most `max` characters of `text` (default 40), control and non-ASCII bytes escaped, `…` when cut. */
export function excerpt(text: string, max = 40): string {
  const cut = text.length > max;
  const head = cut ? text.slice(0, max) : text;
  // eslint-disable-next-line no-control-regex
  const printable = head.replace(/[^\x20-\x7e]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return cut ? `${printable}… (${text.length} characters)` : printable;
}
