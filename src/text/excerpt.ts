/**
 * Bounded echoes: input quoted in a message is cut to a short excerpt and made printable, so a
 * 10 MB line (or a key) never lands on stderr whole and control characters cannot rewrite the
 * terminal.
 */

/**
 * At most about `max` characters (default 40) of `text`: control, format (bidi overrides…) and
 * separator characters escaped, the result cut to `max` printed characters, `…` and the original
 * length when cut. Letters of any script are shown as they are.
 */
export function excerpt(text: string, max = 40): string {
  let out = '';
  let i = 0;
  for (const ch of text) {
    const shown = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/u.test(ch) ? escape(ch) : ch;
    if (out.length + shown.length > max) break;
    out += shown;
    i += ch.length;
  }
  return i < text.length ? `${out}… (${text.length} characters)` : out;
}

function escape(ch: string): string {
  const code = ch.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : code <= 0xffff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\u{${code.toString(16)}}`;
}
