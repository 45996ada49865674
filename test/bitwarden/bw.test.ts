/**
 * keybridge bw: the real Bitwarden CLI (@bitwarden/cli, logged out: no server here) for the
 * not-logged-in path; recorded item JSON of the real shape (an unencrypted export, and a `bw serve`
 * stand-in answering the routes and bodies the real one does) for the logged-in paths; keys.txt
 * sync with failure injection (kill mid-write, a full disk, an unreadable item).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildExampleRepo, type ExampleRepo } from '../../src/repo/exampleRepo.ts';
import { DIST, ROOT, keybridge } from '../helpers/run.ts';
import { findTool, itWith } from '../helpers/tools.ts';
import { sshPublicKeyToAgeRecipient } from '../../src/ssh/lines.ts';

const age = findTool('age');
const ageKeygen = findTool('age-keygen');
let repo: ExampleRepo;
let dir: string;
let items: { name: string; sshKey?: { publicKey: string }; login?: { password: string } }[];
let server: Server;
let serveUrl: string;
let locked = false;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keybridge-bw-'));
  if (age.missing) return;
  repo = await buildExampleRepo(join(dir, 'repo'), { faults: true });
  items = JSON.parse(readFileSync(repo.bitwardenExport, 'utf8')).items;
  // A stand-in for `bw serve` with recorded items: same routes and response bodies.
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://localhost');
    res.setHeader('content-type', 'application/json');
    if (locked) {
      res.statusCode = 400;
      return res.end(JSON.stringify({ success: false, message: 'Vault is locked.' }));
    }
    if (url.pathname === '/list/object/items') {
      const q = (url.searchParams.get('search') ?? '').toLowerCase();
      return res.end(JSON.stringify({ success: true, data: { object: 'list', data: items.filter((i) => i.name.toLowerCase().includes(q)) } }));
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ success: false, message: 'Not found.' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  serveUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => {
  server?.close();
});

const env = () => ({ ...process.env, PATH: `${ROOT}node_modules/.bin:${process.env.PATH}`, BITWARDENCLI_APPDATA_DIR: join(dir, 'bw-appdata'), HOME: join(dir, 'home') });

describe('keybridge bw derive', () => {
  itWith([age, ageKeygen])('derives recipients and identities from SSH-key items and from the older login/notes convention', async () => {
    const crs58 = items.find((i) => i.name === 'sops-crs58-ssh')!;
    const r = await keybridge(['bw', 'derive', 'sops-crs58-ssh', '--export', repo.bitwardenExport]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(sshPublicKeyToAgeRecipient(crs58.sshKey!.publicKey) + '\n');
    const legacy = await keybridge(['bw', 'derive', 'SOPS-STIBNITE-SSH', '--export', repo.bitwardenExport, '--identity', '--json']);
    const j = JSON.parse(legacy.stdout);
    expect(j.recipient).toBe(sshPublicKeyToAgeRecipient(items.find((i) => i.name === 'sops-stibnite-ssh')!.login!.password));
    expect(execFileSync('age-keygen', ['-y'], { input: j.identity + '\n' }).toString().trim()).toBe(j.recipient);
    const served = await keybridge(['bw', 'derive', 'sops-raquel-ssh', '--serve', serveUrl]);
    expect(served.stdout.trim()).toBe(sshPublicKeyToAgeRecipient(items.find((i) => i.name === 'sops-raquel-ssh')!.sshKey!.publicKey));
  });

  itWith([age])('clear errors: not found, no ed25519 key, locked, not logged in (real bw), bw not installed', async () => {
    const nf = await keybridge(['bw', 'derive', 'sops-nobody-ssh', '--export', repo.bitwardenExport]);
    expect(nf.code).toBe(1);
    expect(nf.stderr).toMatch(/no Bitwarden item named "sops-nobody-ssh"/);
    const rsa = await keybridge(['bw', 'derive', 'sops-legacy-ssh', '--export', repo.bitwardenExport]);
    expect(rsa.stderr).toMatch(/holds a ssh-rsa key; only ed25519 keys convert to age/);
    locked = true;
    const lk = await keybridge(['bw', 'derive', 'sops-crs58-ssh', '--serve', serveUrl]);
    locked = false;
    expect(lk.code).toBe(2); // Bitwarden could not be read
    expect(lk.stderr).toMatch(/the vault is locked/);
    const real = await keybridge(['bw', 'derive', 'sops-crs58-ssh'], { env: env(), timeoutMs: 60_000 });
    expect(real.code).toBe(2);
    expect(real.stderr).toMatch(/you are not logged in; run `bw login`/);
    const none = await keybridge(['bw', 'derive', 'x'], { env: { ...process.env, PATH: '/nonexistent' } });
    expect(none.stderr).toMatch(/`bw` is not installed/);
  }, 90_000);
});

describe('keybridge bw sync', () => {
  itWith([age, ageKeygen])('merges into keys.txt: foreign identities kept, managed ones updated, backup, 0600, dry run shows no secrets', async () => {
    const file = join(dir, 'cfg', 'sops', 'age', 'keys.txt');
    mkdirSync(join(dir, 'cfg', 'sops', 'age'), { recursive: true });
    const foreign = execFileSync('age-keygen').toString();
    writeFileSync(file, foreign, { mode: 0o644 });
    const dry = await keybridge(['bw', 'sync', '--item', 'sops-crs58-ssh', '--item', 'sops-raquel-ssh', '--export', repo.bitwardenExport, '--dry-run'], { env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'cfg') } });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^\+ sops-crs58-ssh: add age1\w+$/m);
    expect(dry.stdout).not.toMatch(/AGE-SECRET-KEY/);
    expect(readFileSync(file, 'utf8')).toBe(foreign);
    const run1 = await keybridge(['bw', 'sync', '--item', 'sops-crs58-ssh', '--item', 'sops-raquel-ssh', '--export', repo.bitwardenExport], { env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'cfg') } });
    expect(run1.code, run1.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith(foreign)).toBe(true);
    expect(text.match(/^AGE-SECRET-KEY-1/gm)).toHaveLength(3);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(foreign);
    // every identity's public key is in its comment, as sops/clan read them
    const pubs = execFileSync('age-keygen', ['-y', file]).toString().trim().split('\n');
    for (const p of pubs) expect(text).toContain(`# public key: ${p}`);
    const again = await keybridge(['bw', 'sync', '--item', 'sops-crs58-ssh', '--item', 'sops-raquel-ssh', '--export', repo.bitwardenExport, '--file', file]);
    expect(again.stdout).toContain('is up to date');
    const json = JSON.parse((await keybridge(['bw', 'sync', '--item', 'sops-crs58-ssh', '--export', repo.bitwardenExport, '--file', file, '--json'])).stdout);
    expect(json).toMatchObject({ file, written: false, backup: null, changes: [{ item: 'sops-crs58-ssh', action: 'unchanged' }] });
    // The item changes: the managed block is replaced, the foreign identity stays.
    const changed = JSON.parse(readFileSync(repo.bitwardenExport, 'utf8'));
    const other = changed.items.find((i: { name: string }) => i.name === 'sops-stibnite-ssh');
    const raq = changed.items.find((i: { name: string }) => i.name === 'sops-raquel-ssh');
    raq.sshKey = { privateKey: other.notes, publicKey: other.login.password };
    const exp2 = join(dir, 'export2.json');
    writeFileSync(exp2, JSON.stringify(changed));
    const upd = await keybridge(['bw', 'sync', '--item', 'sops-raquel-ssh', '--export', exp2, '--file', file]);
    expect(upd.stdout).toMatch(/^~ sops-raquel-ssh: update age1\w+ \(was age1\w+\)$/m);
    const after = readFileSync(file, 'utf8');
    expect(after.startsWith(foreign)).toBe(true);
    expect(after.match(/^AGE-SECRET-KEY-1/gm)).toHaveLength(3);
  });

  itWith([age])('any failure leaves keys.txt untouched: an unreadable item, a full disk, a kill in the middle', async () => {
    const file = join(dir, 'k2', 'keys.txt');
    mkdirSync(join(dir, 'k2'));
    const original = execFileSync('age-keygen').toString();
    writeFileSync(file, original, { mode: 0o600 });
    const bad = await keybridge(['bw', 'sync', '--item', 'sops-crs58-ssh', '--item', 'sops-legacy-ssh', '--export', repo.bitwardenExport, '--file', file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/ssh-rsa key/);
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(existsSync(`${file}.bak`)).toBe(false);

    // A full disk: a tiny tmpfs that holds the current file but not the new one.
    const mnt = join(dir, 'full');
    mkdirSync(mnt);
    let mounted = false;
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', mnt], { stdio: 'ignore' });
      mounted = true;
    } catch {
      process.stderr.write('note: cannot mount a tmpfs here (not root?): the disk-full case is not exercised\n');
    }
    if (mounted) {
      try {
        const full = join(mnt, 'keys.txt');
        writeFileSync(full, original.repeat(12), { mode: 0o600 });
        const before = readFileSync(full, 'utf8');
        const r = await keybridge(['bw', 'sync', '--item', 'sops-crs58-ssh', '--export', repo.bitwardenExport, '--file', full]);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(/ENOSPC|no space/i);
        expect(readFileSync(full, 'utf8')).toBe(before);
      } finally {
        execFileSync('umount', [mnt]);
      }
    }

    // Killed at random moments: the file is always the old or the new version, whole.
    const states = new Set<string>();
    for (let i = 0; i < 12; i++) {
      writeFileSync(file, original, { mode: 0o600 });
      const child = spawn(process.execPath, [`${DIST}/keybridge.mjs`, 'bw', 'sync', '--item', 'sops-crs58-ssh', '--export', repo.bitwardenExport, '--file', file]);
      const closed = new Promise((r) => child.on('close', r));
      await new Promise((r) => setTimeout(r, 20 + i * 30));
      child.kill('SIGKILL');
      await closed;
      const now = readFileSync(file, 'utf8');
      const whole = now === original || (now.startsWith(original) && /^AGE-SECRET-KEY-1\w+\n$/m.test(now.slice(original.length)) && now.endsWith('\n'));
      expect(whole, JSON.stringify(now.slice(-80))).toBe(true);
      states.add(now === original ? 'old' : 'new');
    }
    // The earliest kills land before the rename (start-up alone takes longer than 20 ms).
    expect(states.has('old')).toBe(true);
    rmSync(`${file}.bak`, { force: true });
  }, 60_000);
});

describe('Bitwarden lookups', () => {
  it('several items with one name are an error naming their ids; names match case-insensitively', async () => {
    const { exportSource } = await import('../../src/bitwarden/source.ts');
    const f = join(dir, 'dup.json');
    writeFileSync(f, JSON.stringify({ encrypted: false, items: [{ id: 'a1', name: 'sops-x-ssh' }, { id: 'b2', name: 'SOPS-X-SSH' }, { id: 'c3', name: 'sops-x-ssh-old' }] }));
    const src = await exportSource(f);
    await expect(src.getItem('sops-x-ssh')).rejects.toMatchObject({ code: 'AMBIGUOUS', message: expect.stringContaining('a1, b2') });
    expect((await src.getItem('SOPS-X-SSH-OLD')).id).toBe('c3');
    writeFileSync(f, JSON.stringify({ encrypted: true, data: 'x' }));
    await expect(exportSource(f)).rejects.toMatchObject({ code: 'UNREADABLE', message: expect.stringContaining('encrypted export') });
  });
});
