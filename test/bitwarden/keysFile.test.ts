/**
 * keys.txt survives byte for byte outside keybridge's blocks: any encoding, hand-edited blocks,
 * missing final newlines.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { identityToRecipient } from 'age-encryption';
import { planSync, type SyncEntry } from '../../src/bitwarden/keysFile.ts';
import { findTool, itWith } from '../helpers/tools.ts';

const ageKeygen = findTool('age-keygen');
const NOW = new Date('2026-01-02T03:04:05Z');

async function entry(item: string): Promise<SyncEntry> {
  const identity = execFileSync('age-keygen').toString().split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;
  return { item, identity, recipient: await identityToRecipient(identity) };
}

function managed(e: SyncEntry): string {
  return `# keybridge: Bitwarden item ${e.item}\n# created: 2025-01-01T00:00:00Z\n# public key: ${e.recipient}\n${e.identity}\n`;
}

describe('planSync keeps foreign bytes', () => {
  itWith([ageKeygen])('non-UTF-8 bytes (latin1 comments, stray 0xff) come back exactly; only the managed block changes', async () => {
    const old = await entry('sops-a-ssh');
    const next = await entry('sops-a-ssh');
    const foreign = Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9, 0x20, 0xff, 0xfe]), Buffer.from('\nAGE-SECRET-KEY-1FOREIGN\n\n')]);
    const tail = Buffer.concat([Buffer.from('# \u00fcber\r\n'), Buffer.from([0x80, 0x81]), Buffer.from('\n')]);
    const file = Buffer.concat([foreign, Buffer.from(managed(old)), tail]);
    const plan = await planSync(file, [next], NOW);
    expect(plan.changes).toEqual([{ item: 'sops-a-ssh', action: 'replace', recipient: next.recipient, previous: old.recipient }]);
    const expected = Buffer.concat([foreign, Buffer.from(`# keybridge: Bitwarden item sops-a-ssh\n# created: 2026-01-02T03:04:05Z\n# public key: ${next.recipient}\n${next.identity}\n`), tail]);
    expect(plan.bytes.equals(expected)).toBe(true);
    // nothing to do: the very same bytes
    const same = await planSync(expected, [next], NOW);
    expect(same.changes[0]!.action).toBe('unchanged');
    expect(same.bytes.equals(expected)).toBe(true);
  });

  itWith([ageKeygen])('a block whose identity line was removed by hand does not absorb the foreign lines after it', async () => {
    const mine = await entry('sops-b-ssh');
    const stranger = await entry('someone-else');
    const broken = `# keybridge: Bitwarden item sops-b-ssh\n# created: 2025-01-01T00:00:00Z\n# public key: ${mine.recipient}\n`;
    const foreignAfter = `# my own key, added by hand\n${stranger.identity}\n`;
    const plan = await planSync(broken + foreignAfter, [mine], NOW);
    expect(plan.changes).toEqual([{ item: 'sops-b-ssh', action: 'replace', recipient: mine.recipient }]);
    const text = plan.bytes.toString('utf8');
    expect(text).toContain(foreignAfter);
    expect(text.match(/^AGE-SECRET-KEY-1/gm)).toHaveLength(2);
    expect(text).toBe(`# keybridge: Bitwarden item sops-b-ssh\n# created: 2026-01-02T03:04:05Z\n# public key: ${mine.recipient}\n${mine.identity}\n${foreignAfter}`);
    // the foreign identity right after the comment (no blank line): still not taken for ours
    const tight = await planSync(broken + `${stranger.identity}\n`, [mine], NOW);
    expect(tight.bytes.toString('utf8')).toContain(`${mine.identity}\n${stranger.identity}\n`);
  });

  itWith([ageKeygen])('a file without a final newline keeps its ending when a block in the middle changes; UTF-8 item names round-trip', async () => {
    const a = await entry('sops-ünïcode-ssh');
    const a2 = await entry('sops-ünïcode-ssh');
    const file = `${managed(a)}# last line without newline`;
    const plan = await planSync(file, [a2], NOW);
    expect(plan.changes[0]).toMatchObject({ action: 'replace' });
    expect(plan.bytes.toString('utf8')).toBe(`# keybridge: Bitwarden item sops-ünïcode-ssh\n# created: 2026-01-02T03:04:05Z\n# public key: ${a2.recipient}\n${a2.identity}\n# last line without newline`);
    const added = await planSync('# no newline', [a2], NOW);
    expect(added.bytes.toString('utf8')).toBe(`# no newline\n\n# keybridge: Bitwarden item sops-ünïcode-ssh\n# created: 2026-01-02T03:04:05Z\n# public key: ${a2.recipient}\n${a2.identity}\n`);
  });

  it('an empty file gets just the block', async () => {
    const identity = 'AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX';
    const e = { item: 'x', identity, recipient: await identityToRecipient(identity) };
    const plan = await planSync(new Uint8Array(0), [e], NOW);
    expect(plan.bytes.toString()).toBe(`# keybridge: Bitwarden item x\n# created: 2026-01-02T03:04:05Z\n# public key: ${e.recipient}\n${identity}\n`);
  });
});
