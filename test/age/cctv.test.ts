import { readdirSync, readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '@scure/base';
import { armor, Decrypter } from 'age-encryption';
import { hybridIdentity } from '../../src/age/mlkem768x25519.ts';
import { decodeHybridIdentity } from '../../src/age/pqKeys.ts';

// The CCTV age testkit's mlkem768x25519 files: typage parses the header, checks the HMAC and
// decrypts the payload; every PQ identity is ours (our combiner, seed expansion and stanza rules).
const dir = new URL('../fixtures/cctv-age/', import.meta.url);
const names = readdirSync(dir).filter((n) => n.includes('hybrid'));

function parse(file: Buffer): { headers: [string, string][]; body: Uint8Array } {
  const end = file.indexOf('\n\n');
  const headers = file
    .subarray(0, end)
    .toString('utf8')
    .split('\n')
    .map((l) => {
      const i = l.indexOf(': ');
      return [l.slice(0, i), l.slice(i + 2)] as [string, string];
    });
  return { headers, body: new Uint8Array(file.subarray(end + 2)) };
}

describe('CCTV age hybrid vectors through our mlkem768x25519 identity', () => {
  it('has the whole hybrid set', () => expect(names.length).toBe(19));

  for (const name of names) {
    it(name, async () => {
      const { headers, body: raw } = parse(readFileSync(new URL(name, dir)));
      const get = (k: string) => headers.filter(([h]) => h === k).map(([, v]) => v);
      const body = get('compressed')[0] === 'zlib' ? new Uint8Array(inflateSync(raw)) : raw;
      const known = new Set(['expect', 'payload', 'file key', 'identity', 'armored', 'compressed', 'comment']);
      expect(headers.every(([h]) => known.has(h))).toBe(true);
      const d = new Decrypter();
      let ours = 0;
      for (const id of get('identity')) {
        if (id.startsWith('AGE-SECRET-KEY-PQ-1')) {
          d.addIdentity(hybridIdentity(decodeHybridIdentity(id)));
          ours++;
        } else d.addIdentity(id);
      }
      expect(ours).toBeGreaterThan(0);
      const file = get('armored')[0] === 'yes' ? armor.decode(new TextDecoder().decode(body)) : body;
      const expectation = get('expect')[0];
      if (expectation === 'success') {
        const out = await d.decrypt(file);
        expect(hex.encode(sha256(out))).toBe(get('payload')[0]);
      } else if (expectation === 'no match') {
        await expect(d.decrypt(file)).rejects.toThrow(/no identity matched/);
      } else {
        expect(expectation).toBe('header failure');
        await expect(d.decrypt(file)).rejects.toThrow();
      }
    });
  }
});
