import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { keybridge, ROOT } from './helpers/run.ts';
import { VERSION } from '../src/version.ts';

describe('keybridge CLI', () => {
  it('version matches package.json', () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });

  it('--help lists the subcommands and exits 0', async () => {
    const r = await keybridge(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: keybridge <command>/);
    expect(r.stdout).toMatch(/^\s+version\s+print the keybridge version$/m);
  });

  it('no arguments prints help on stderr and exits 2', async () => {
    const r = await keybridge([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Usage: keybridge/);
  });

  it('an unknown command is a usage error', async () => {
    const r = await keybridge(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});
