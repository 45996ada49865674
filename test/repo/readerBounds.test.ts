/**
 * Hostile input found by the fuzz targets (fuzz/targets/sopsMetadata.ts, secretsNix.ts,
 * clan.ts): each reader ends in its documented error or a result, with bounded work.
 */
import { describe, expect, it } from 'vitest';
import { parseSopsFile } from '../../src/repo/readers/sopsFile.ts';
import { parseSecretsNix } from '../../src/repo/readers/agenix.ts';
import { NixParser, NixSubsetError } from '../../src/repo/readers/nix.ts';
import { parseClanNix } from '../../src/repo/readers/clanNix.ts';

const R1 = 'age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw';

describe('sops metadata: bounded work', () => {
  it('a YAML sops block after a million blank lines is read in linear time', () => {
    const text = `a: b\nsops:\n${' \n'.repeat(1_000_000)}    age:\n        - recipient: ${R1}\n          enc: x\n`;
    expect(parseSopsFile(text, 'a.yaml')).toEqual({ groups: [[R1]] });
  }, 30_000);
});

describe('secrets.nix subset parser', () => {
  it('lists nested deeper than the bound are a NixSubsetError, not a stack overflow', () => {
    expect(() => parseSecretsNix(`{ "a.age".publicKeys = ${'['.repeat(50_000)} ]; }`)).toThrow(NixSubsetError);
    expect(() => parseSecretsNix(`{ "a.age".publicKeys = ${'['.repeat(150)}"k"${']'.repeat(150)}; }`)).not.toThrow();
  });

  it('strings with Nix escapes and raw control characters have their Nix value', () => {
    const r = parseSecretsNix('{ "a\\q.age".publicKeys = [ "tab\there" "a\\qb" "\\u0041" "\\$x" "l\\nm\\\\" ]; }');
    expect([...r.files]).toEqual([['aq.age', ['tab\there', 'aqb', 'u0041', '$x', 'l\nm\\']]]);
  });

  it('an unterminated string in a skipped value ends the file instead of being rescanned from each quote', () => {
    const p = new NixParser(`{ a = x ${'"\\'.repeat(1_000_000)}; }`, 'clan.nix', true);
    expect(() => p.parseTop(new Map())).toThrow(NixSubsetError);
  }, 30_000);
});

describe('clan.nix recipients', () => {
  it('a long machine name in an error is quoted as a bounded excerpt', () => {
    const text = `{ vars.settings.recipients.hosts.${'m'.repeat(20_000)} = "${R1}"; }`;
    expect(() => parseClanNix(text)).toThrow(/^vars\.settings\.recipients\.hosts\."m{60}…" must be a list/);
    expect(() => parseClanNix(text)).toThrow(expect.objectContaining({ message: expect.stringMatching(/^.{0,200}$/) }));
    expect(() => parseClanNix(`{ vars.settings.recipients.hosts.galena = "${R1}"; }`)).toThrow('vars.settings.recipients.hosts.galena must be a list of recipient strings');
  });
});
