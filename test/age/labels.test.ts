import { describe, expect, it } from 'vitest';
import { labelMixError, POSTQUANTUM, stanzaLabels } from '../../src/age/labels.ts';

describe('recipient labels', () => {
  it('labels the post-quantum stanza types and nothing else', () => {
    expect(stanzaLabels('mlkem768p256tag')).toEqual([POSTQUANTUM]);
    expect(stanzaLabels('mlkem768x25519')).toEqual([POSTQUANTUM]);
    for (const t of ['piv-p256', 'p256tag', 'X25519', 'MLKEM768P256TAG']) expect(stanzaLabels(t)).toEqual([]);
  });

  it('refuses post-quantum with classic in Go age’s words, accepts uniform sets in any order', () => {
    expect(labelMixError([[POSTQUANTUM], [POSTQUANTUM]])).toBeNull();
    expect(labelMixError([[], [], []])).toBeNull();
    expect(labelMixError([['b', 'a'], ['a', 'b']])).toBeNull();
    expect(labelMixError([])).toBeNull();
    expect(labelMixError([[POSTQUANTUM], []])).toBe(
      "incompatible recipients: can't mix post-quantum and classic recipients, or the file would be vulnerable to quantum computers",
    );
    expect(labelMixError([[], [], [POSTQUANTUM]])).toMatch(/can't mix post-quantum and classic/);
    expect(labelMixError([['x'], ['y']])).toBe('incompatible recipients: ["x"] and ["y"] can\'t be mixed');
  });
});
