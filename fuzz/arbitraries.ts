/** Shared generators: mutations of known-good inputs, extreme numbers, hostile text. */
import fc from 'fast-check';

/** Numbers a parser must bound: zero, one, the edges of 8/16/31/32 bits. */
export const EXTREME_U32 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'repeat'; at: number; length: number; times: number };

/** One byte-level edit of a known-good input. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.constantFrom(...EXTREME_U32) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }), times: fc.integer({ min: 2, max: 50 }) }),
);

/** `base` with `muts` applied in order (positions taken modulo the current length). */
export function applyMutations(base: Uint8Array, muts: readonly Mutation[]): Uint8Array {
  let b = Buffer.from(base);
  for (const m of muts) {
    if (b.length === 0 && m.kind !== 'insert') continue;
    const at = b.length ? m.at % b.length : 0;
    switch (m.kind) {
      case 'flip':
        b[at]! ^= 1 << m.bit;
        break;
      case 'set':
        b[at] = m.value;
        break;
      case 'u32':
        if (at + 4 <= b.length) b.writeUInt32BE(m.value >>> 0, at);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
        break;
      case 'repeat': {
        const piece = b.subarray(at, at + m.length);
        b = Buffer.concat([b.subarray(0, at), ...Array<Buffer>(m.times).fill(piece), b.subarray(at)]);
        break;
      }
    }
  }
  return new Uint8Array(b);
}

/** One of `bases`, unchanged or with 1–4 mutations (bit flips, extreme uint32s, cuts, repeats…). */
export function mutatedBytes(bases: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.integer({ min: 0, max: bases.length - 1 }), fc.array(mutation, { minLength: 0, maxLength: 4 }))
    .map(([i, muts]) => applyMutations(bases[i]!, muts));
}

/** Text a hostile file might hold: control characters, CR, NUL, long runs, non-ASCII. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.constantFrom('', '\r', '\0', '\u00ff', '\ufffd', ' '.repeat(3), '\t', '=', '#', '"', '\\'),
  fc.tuple(fc.constantFrom('a', 'A', '=', ' ', '/', '+', '1', '\u00e9'), fc.integer({ min: 100, max: 5000 })).map(([c, n]) => c.repeat(n)),
);

/** One of `bases` (text), unchanged or with byte-level mutations, decoded as UTF-8. */
export function mutatedText(bases: readonly string[]): fc.Arbitrary<string> {
  const te = new TextEncoder();
  return mutatedBytes(bases.map((b) => te.encode(b))).map((b) => Buffer.from(b).toString('utf8'));
}

/** Deep nesting of a bracket pair (`[`/`]`, `{`/`}`), closed or not, around `inner`. */
export const deepNesting: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(['[', ']'], ['{ a: ', ' }'], ['{"a":', '}'], ['(', ')'], ['- ', '']), fc.integer({ min: 50, max: 3000 }), fc.boolean(), fc.constantFrom('x', '"x"', '1', ''))
  .map(([[open, close], depth, closed, inner]) => open!.repeat(depth) + inner + (closed ? close!.repeat(depth) : ''));

/** A YAML alias bomb ("billion laughs"): each level lists the previous one `width` times. */
export const yamlAliasBomb: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 10 }), fc.constantFrom('age', 'sops', 'creation_rules', 'keys'))
  .map(([levels, width, key]) => {
    const lines = ['a0: &a0 age1qqqq'];
    for (let l = 1; l < levels; l++) lines.push(`a${l}: &a${l} [${Array<string>(width).fill(`*a${l - 1}`).join(', ')}]`);
    lines.push(`${key}: *a${levels - 1}`);
    return lines.join('\n') + '\n';
  });

/** Every attribute set in a parsed value has no prototype: `__proto__`, `constructor` are ordinary names. */
export function prototypeFree(v: unknown, depth = 0): boolean {
  if (depth > 400) return true;
  if (Array.isArray(v)) return v.every((x) => prototypeFree(x, depth + 1));
  if (v === null || typeof v !== 'object') return true;
  return Object.getPrototypeOf(v) === null && Object.values(v).every((x) => prototypeFree(x, depth + 1));
}
