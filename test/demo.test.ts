import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { keybridge } from './helpers/run.ts';
import { findTool, itWith } from './helpers/tools.ts';

const needs = [findTool('age'), findTool('age-keygen'), findTool('ssh-keygen')];

describe('keybridge demo', () => {
  itWith(needs)('runs every step and cleans up', async () => {
    const r = await keybridge(['demo'], { timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {4}age1[02-9ac-hj-np-z]{58}$/m);
    expect(r.stdout).toMatch(/ok: age decrypted the file with the identity converted from the SSH host key/);
    expect(r.stdout).toMatch(/identity written to .*\(mode 0600\)/);
    expect(r.stdout).toMatch(/^Demo complete: \d+ steps/m);
    expect(r.stdout).not.toMatch(/AGE-SECRET-KEY-1/);
    const dir = /working directory (\S+)\)/.exec(r.stdout)?.[1];
    expect(dir).toBeDefined();
    expect(existsSync(dir!)).toBe(false);
  }, 120_000);

  it('rejects unknown options with exit 2', async () => {
    const r = await keybridge(['demo', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/keybridge demo: .*bogus/);
  });
});

