import { describe, expect, it } from 'vitest';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/fs/atomicWrite.ts';
import { tempDir } from '../helpers/sshKeygen.ts';

describe('writeFileAtomic', () => {
  it('creates a file with the umask mode and no temporary file left', async () => {
    const dir = tempDir('kb-fs-');
    await writeFileAtomic(join(dir, 'a'), 'one\n');
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('one\n');
    expect(statSync(join(dir, 'a')).mode & 0o777).toBe(0o666 & ~process.umask());
    expect(readdirSync(dir)).toEqual(['a']);
  });

  it('keeps the mode of a replaced file, and makes secrets 0600 with a .bak of the old content', async () => {
    const dir = tempDir('kb-fs-');
    const f = join(dir, 'a');
    writeFileSync(f, 'old\n');
    chmodSync(f, 0o640);
    await writeFileAtomic(f, 'new\n');
    expect(statSync(f).mode & 0o777).toBe(0o640);
    await writeFileAtomic(f, 'secret\n', { secret: true });
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${f}.bak`, 'utf8')).toBe('new\n');
    expect(statSync(`${f}.bak`).mode & 0o777).toBe(0o600);
    await writeFileAtomic(f, 'secret\n', { secret: true });
    expect(readFileSync(`${f}.bak`, 'utf8')).toBe('new\n');
  });

  it('replaces the target of a symlink and keeps the link', async () => {
    const dir = tempDir('kb-fs-');
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'keys.txt'), 'old\n');
    symlinkSync(join(dir, 'real', 'keys.txt'), join(dir, 'link'));
    await writeFileAtomic(join(dir, 'link'), 'new\n');
    expect(lstatSync(join(dir, 'link')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'real', 'keys.txt'), 'utf8')).toBe('new\n');
  });

  it('writes straight to a device such as /dev/null only when streams are allowed', async () => {
    await expect(writeFileAtomic('/dev/null', 'x', { allowStream: true })).resolves.toBeUndefined();
    await expect(writeFileAtomic('/dev/null', 'x')).rejects.toMatchObject({ code: 'ENOTREG', message: '/dev/null is a device, not a regular file; refusing to use it (move it away first)' });
  });

  it('fails without leaving anything when the directory does not exist', async () => {
    const dir = tempDir('kb-fs-');
    await expect(writeFileAtomic(join(dir, 'missing', 'a'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(dir)).toEqual([]);
  });
});
