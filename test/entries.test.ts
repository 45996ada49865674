/**
 * The package's two entry points: the library exports no simulator or rig; `keybridge/testing`
 * exports them (package.json `exports`, built to dist/testing.mjs).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ROOT } from './helpers/run.ts';

describe('entry points', () => {
  it('keybridge exports no virtual token or rig; keybridge/testing does', async () => {
    const main = await import('../src/index.ts');
    expect(Object.keys(main).filter((k) => /rig|virtual|sim/i.test(k))).toEqual([]);
    const testing = await import('../src/testing.ts');
    expect(typeof testing.startRig).toBe('function');
    expect(typeof testing.startVirtualYubiKey).toBe('function');
    expect(typeof testing.startVirtualFido2).toBe('function');
    expect((await testing.virtualTokens()).map((t) => t.name)).toEqual(expect.arrayContaining(['yubikey', 'fido2']));
    expect(typeof main.Ctap2Session).toBe('function');
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8'));
    expect(pkg.exports['./testing']).toEqual({ types: './src/testing.ts', default: './dist/testing.mjs' });
    expect(pkg.exports['.'].default).toBe(pkg.main.replace(/^(?!\.\/)/, './'));
  });
});
