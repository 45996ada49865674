/**
 * The CI PIN source: a 0600 file or a file descriptor named by an environment variable; wider
 * modes, symlinks, non-regular files, oversized or multi-line content are refused with the reason.
 */
import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ciPinSource, readCiPin } from '../../../src/plugins/kit/ciPinSource.ts';
import { PinSourceError } from '../../../src/plugins/kit/pinSource.ts';
import { ROOT } from '../../helpers/run.ts';

describe('CI PIN source', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kb-cipin-'));
  const file = (name: string, content: string, mode: number) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    chmodSync(p, mode);
    return p;
  };

  it('reads one line from a file only its owner can read', () => {
    expect(readCiPin({ KEYBRIDGE_PIN_FILE: file('ok', '471129\n', 0o600) })).toBe('471129');
    expect(readCiPin({ KEYBRIDGE_PIN_FILE: file('ro', '471129', 0o400) })).toBe('471129');
    expect(readCiPin({})).toBeUndefined();
  });

  it('refuses a wider mode, a symlink, a directory, junk, and both variables at once', () => {
    expect(() => readCiPin({ KEYBRIDGE_PIN_FILE: file('wide', '471129\n', 0o644) })).toThrow(/has mode 0644; it must be readable by you only \(chmod 600 /);
    expect(() => readCiPin({ KEYBRIDGE_PIN_FILE: file('group', '471129\n', 0o640) })).toThrow(/mode 0640/);
    symlinkSync(join(dir, 'ok'), join(dir, 'link'));
    expect(() => readCiPin({ KEYBRIDGE_PIN_FILE: join(dir, 'link') })).toThrow(/is a symbolic link/);
    expect(() => readCiPin({ KEYBRIDGE_PIN_FILE: dir })).toThrow(/not a regular file/);
    expect(() => readCiPin({ KEYBRIDGE_PIN_FILE: file('two', '1\n2\n', 0o600) })).toThrow(/more than one line/);
    expect(() => readCiPin({ KEYBRIDGE_PIN_FILE: file('big', 'x'.repeat(300), 0o600) })).toThrow(/more than 256 bytes/);
    expect(() => readCiPin({ KEYBRIDGE_PIN_FILE: file('empty', '\n', 0o600) })).toThrow(/is empty/);
    expect(() => readCiPin({ KEYBRIDGE_PIN_FILE: join(dir, 'absent') })).toThrow(/cannot open .* \(ENOENT\)/);
    expect(() => readCiPin({ KEYBRIDGE_PIN_FILE: join(dir, 'ok'), KEYBRIDGE_PIN_FD: '3' })).toThrow(/only one of/);
    expect(() => readCiPin({ KEYBRIDGE_PIN_FD: '0' })).toThrow(/3 or more/);
    expect(() => readCiPin({ KEYBRIDGE_PIN_FD: '999' })).toThrow(/not open/);
  });

  it('reads a pipe on the named file descriptor (as a CI step passes it), once', async () => {
    const script = `
      import('${ROOT}src/plugins/kit/ciPinSource.ts').then(async ({ ciPinSource }) => {
        const s = ciPinSource(process.env, (l) => console.error(l));
        const a = await s.pin({}); const b = await s.pin({});
        console.log(JSON.stringify([a, b]));
      });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      env: { ...process.env, KEYBRIDGE_PIN_FD: '3' },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      cwd: ROOT,
    });
    (child.stdio[3] as NodeJS.WritableStream).end('471129\n');
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const code = await new Promise((r) => child.on('close', r));
    expect(code, err).toBe(0);
    expect(JSON.parse(out)).toEqual(['471129', '471129']);
  });

  it('a refused file is reported through warn and fails the source every time', async () => {
    const warned: string[] = [];
    const s = ciPinSource({ KEYBRIDGE_PIN_FILE: join(dir, 'wide') }, (l) => warned.push(l));
    const req = { family: 'yubikey', device: { key: '1', label: '1' }, prompt: 'Enter PIN', retriesLeft: 3 };
    await expect(s.pin(req)).rejects.toThrow(/mode 0644/);
    await expect(s.pin(req)).rejects.toThrow(PinSourceError);
    expect(warned).toHaveLength(1);
    expect(warned[0]).not.toContain('471129');
    rmSync(dir, { recursive: true, force: true });
  });
});
