/** Helpers for one-line usage errors: the closest valid flag to a typo, and arguments shown safely. */

/** Restricted Damerau–Levenshtein distance (a swap of two neighbours counts as one edit). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/** The valid flag closest to `flag`, when one is close enough to be a typo of it. */
export function closestFlag(flag: string, valid: readonly string[]): string | undefined {
  const name = flag.replace(/^-+/, '');
  if (name.length <= 1 || name.length > 100) return undefined; // one letter is too little to guess from
  let best: { flag: string; distance: number } | undefined;
  for (const v of valid) {
    const distance = editDistance(flag, v);
    if (!best || distance < best.distance) best = { flag: v, distance };
  }
  const allowed = name.length <= 3 ? 1 : Math.max(2, Math.floor(name.length / 3));
  return best && best.distance <= allowed ? best.flag : undefined;
}

/** An argument as it may appear in a message: bounded, printable. */
export function shown(arg: string): string {
  const printable = arg.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 40 ? `${printable.slice(0, 40)}…` : printable;
}
