/** Go's flag grammar for the plugins replacing Go tools. */
import { describe, expect, it } from 'vitest';
import { parseGoFlags } from '../../src/term/goFlags.ts';

const T = { generate: { type: 'string', description: 'g' }, g: { type: 'boolean', aliases: ['gen-bool'], description: 'b' }, s: { type: 'boolean', aliases: ['symmetric'], description: 's' } } as const;

describe('parseGoFlags', () => {
  it('one or two dashes, = or the next argument, booleans with =false, stops at the first free argument or --', () => {
    expect(parseGoFlags(['-generate', 'example.com'], T).values).toEqual({ generate: 'example.com' });
    expect(parseGoFlags(['--generate=example.com', '--symmetric'], T).values).toEqual({ generate: 'example.com', s: true });
    expect(parseGoFlags(['-s=false', 'file', '-g'], T)).toEqual({ values: { s: false }, positionals: ['file', '-g'] });
    expect(parseGoFlags(['--', '-s'], T)).toEqual({ values: {}, positionals: ['-s'] });
    expect(parseGoFlags(['-generate', '-s'], T).values).toEqual({ generate: '-s' });
  });
  it("Go's error texts", () => {
    expect(() => parseGoFlags(['-x'], T)).toThrow('flag provided but not defined: -x');
    expect(() => parseGoFlags(['-generate'], T)).toThrow('flag needs an argument: -generate');
    expect(() => parseGoFlags(['-s=maybe'], T)).toThrow('invalid boolean value "maybe" for -s: parse error');
  });
});
