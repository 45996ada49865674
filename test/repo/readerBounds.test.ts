/**
 * Hostile input found by the fuzz targets (fuzz/targets/sopsMetadata.ts, secretsNix.ts,
 * clan.ts): each reader ends in its documented error or a result, with bounded work.
 */
import { describe, expect, it } from 'vitest';
import { parseSopsFile } from '../../src/repo/readers/sopsFile.ts';

const R1 = 'age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw';

describe('sops metadata: bounded work', () => {
  it('a YAML sops block after a million blank lines is read in linear time', () => {
    const text = `a: b\nsops:\n${' \n'.repeat(1_000_000)}    age:\n        - recipient: ${R1}\n          enc: x\n`;
    expect(parseSopsFile(text, 'a.yaml')).toEqual({ groups: [[R1]] });
  }, 30_000);
});
