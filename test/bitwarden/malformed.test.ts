/**
 * Malformed Bitwarden exports and items: a message naming the file, the item and the field, the
 * documented exit status (2: Bitwarden could not be read; 1: a problem with one item), and with
 * --json the error as JSON on stdout. Nothing quoted from the export is longer than an excerpt.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keybridge } from '../helpers/run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kb-bw-malformed-'));
let n = 0;
function exportFile(content: string): string {
  const f = join(dir, `export-${++n}.json`);
  writeFileSync(f, content);
  return f;
}

const ED = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOHz+U0YtjINc54dZiJNclfmEFifF7RXCFlNlTbuZBji joerg@turingmachine';

describe('keybridge bw with malformed exports', () => {
  const cases: [string, string, RegExp][] = [
    ['null', 'null', /: expected a Bitwarden export \(an object with "items"\), got null$/],
    ['a number', '5', /: expected a Bitwarden export \(an object with "items"\), got number$/],
    ['items that is not a list', '{"items": {"a": 1}}', /: expected a list of items, got object$/],
    ['no items', '{"encrypted": false}', /holds no "items" list$/],
    ['an item that is not an object', '{"items": [null]}', /: item 1 is not an object$/],
    ['an item without a name', '{"items": [{"id": "x"}]}', /: item 1 has no name$/],
    ['a name that is a number', '{"items": [{"name": 7}]}', /: item 1 has no name \(name is number\)$/],
    ['a non-string public key', `{"items": [{"name": "sops-a-ssh", "sshKey": {"publicKey": 5}}]}`, /: item 1 \("sops-a-ssh"\): sshKey\.publicKey is number, not a string$/],
    ['a non-string password', `{"items": [{"name": "ok", "login": {"password": ["x"]}}]}`, /: item 1 \("ok"\): login\.password is object, not a string$/],
    ['login that is a string', `{"items": [{"name": "ok", "login": "x"}]}`, /: item 1 \("ok"\): login is not an object$/],
    ['not JSON', '{"items": [', /is not valid JSON/],
    ['binary', '\u0000\u0001\u00ff', /is not valid JSON/],
  ];
  for (const [name, content, message] of cases) {
    it(`${name}: exit 2 and a message naming the file and the cause`, async () => {
      const f = exportFile(content);
      const r = await keybridge(['bw', 'derive', 'sops-a-ssh', '--export', f]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).not.toContain('internal error');
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr).toContain(f);
      const sync = await keybridge(['bw', 'sync', '--item', 'sops-a-ssh', '--export', f, '--file', join(dir, 'keys.txt'), '--json']);
      expect(sync.code).toBe(2);
      const j = JSON.parse(sync.stdout);
      expect(j.error.code).toMatch(/^(MALFORMED|UNREADABLE)$/);
      expect(j.error.message).toMatch(message);
    });
  }

  it('item-level problems exit 1: a damaged key, a non-ed25519 key; nothing long is echoed', async () => {
    const huge = 'ssh-ed25519 ' + 'A'.repeat(2_000_000);
    const f = exportFile(JSON.stringify({ items: [{ name: 'sops-a-ssh', sshKey: { publicKey: huge } }, { name: 'sops-b-ssh', login: { password: `ssh-${'x'.repeat(100_000)} AAAA` } }, { name: 'n'.repeat(100_000), sshKey: { publicKey: 'ssh-rsa AAAA' } }] }));
    const a = await keybridge(['bw', 'derive', 'sops-a-ssh', '--export', f]);
    expect(a.code).toBe(1);
    expect(a.stderr.length).toBeLessThan(400);
    expect(a.stderr).toMatch(/^keybridge bw: Bitwarden item "sops-a-ssh": /);
    const b = await keybridge(['bw', 'derive', 'sops-b-ssh', '--export', f]);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain('holds no SSH key');
    const c = await keybridge(['bw', 'derive', 'n'.repeat(100_000), '--export', f]);
    expect(c.code).toBe(1);
    expect(c.stderr.length).toBeLessThan(400);
    expect(c.stderr).toContain('… (100000 characters)" holds a ssh-rsa key; only ed25519 keys convert to age');
    const ok = exportFile(JSON.stringify({ items: [{ name: 'sops-ok-ssh', login: { password: ED } }] }));
    const good = await keybridge(['bw', 'derive', 'sops-ok-ssh', '--export', ok]);
    expect([good.code, good.stdout]).toEqual([0, 'age17044m9wgakla6pzftf4srtl3h5mcsr85jysgt5fg23zpnta8sfdqhzn452\n']);
  });

  it('--json: every error is a JSON document on stdout with the same exit status', async () => {
    const ok = exportFile(JSON.stringify({ items: [{ name: 'sops-ok-ssh', login: { password: ED } }] }));
    const nf = await keybridge(['bw', 'sync', '--item', 'sops-nobody-ssh', '--export', ok, '--file', join(dir, 'k.txt'), '--json']);
    expect(nf.code).toBe(1);
    expect(JSON.parse(nf.stdout)).toEqual({ error: { code: 'NOT_FOUND', message: `no Bitwarden item named "sops-nobody-ssh" in ${ok}` } });
    const none = await keybridge(['bw', 'sync', '--json'], { env: { ...process.env, PATH: '/nonexistent', USER: 'nobody' } });
    expect(none.code).toBe(2);
    expect(JSON.parse(none.stdout).error).toMatchObject({ code: 'NOT_INSTALLED', message: expect.stringContaining('`bw` is not installed') });
    const usage = await keybridge(['bw', 'derive', '--json']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout).error).toEqual({ code: 'USAGE', message: 'bw derive needs exactly one item NAME' });
  });
});
