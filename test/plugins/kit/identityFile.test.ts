import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hex } from '@scure/base';
import { jsonText, keyBlock, writeIdentityFile } from '../../../src/plugins/kit/identityFile.ts';
import { identityBlock, listEntry } from '../../../src/plugins/yubikey/identityFile.ts';
import { recipientTag } from '../../../src/plugins/yubikey/recipient.ts';

describe('identity files', () => {
  it('comment styles: right-aligned labels (age-plugin-yubikey) and plain ones (# public key: …)', () => {
    expect(keyBlock([['created', '2024-01-01'], ['public key', 'age1x']], 'AGE-PLUGIN-X-1Y', { align: 'none' })).toBe('# created: 2024-01-01\n# public key: age1x\nAGE-PLUGIN-X-1Y\n');
    expect(keyBlock([['a', '1'], ['long label', '2']], 'ID', { align: 'right' })).toBe('#          a: 1\n# long label: 2\nID\n');
  });

  it("the YubiKey identity block and list entry are the reference's", () => {
    const publicKey = hex.decode('03b58866d50709d9b1207dac7341678b0256d5bf18e652cf75762bf560e2fe4a05');
    const key = { slot: 0x82, publicKey, tag: recipientTag(publicKey), ours: true, name: 'laptop', created: new Date('2023-01-28T08:22:29Z'), pinPolicy: 'once' as const, touchPolicy: 'always' as const };
    expect(identityBlock(12345678, key)).toBe(
      '#       Serial: 12345678, Slot: 1\n' +
        '#         Name: laptop\n' +
        '#      Created: Sat, 28 Jan 2023 08:22:29 +0000\n' +
        '#   PIN policy: Once   (A PIN is required once per session, if set)\n' +
        '# Touch policy: Always (A physical touch is required for every decryption)\n' +
        '#    Recipient: age1yubikey1qw6csek4quyanvfq0kk8xst83vp9d4dlrrn99nm4wc4l2c8zle9q2rsxz5p\n' +
        'AGE-PLUGIN-YUBIKEY-1FESMCQYZQWK0A6QMMP3FW\n',
    );
    expect(listEntry(12345678, key).split('\n').slice(-3)).toEqual(['age1yubikey1qw6csek4quyanvfq0kk8xst83vp9d4dlrrn99nm4wc4l2c8zle9q2rsxz5p', '', '']);
  });

  it('written 0600, atomically; --json is indented and newline-terminated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-idfile-'));
    try {
      const p = join(dir, 'id.txt');
      await writeIdentityFile(p, 'ID\n');
      expect(readFileSync(p, 'utf8')).toBe('ID\n');
      expect(statSync(p).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(jsonText({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}\n');
  });
});
