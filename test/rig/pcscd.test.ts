/**
 * Where the rig finds pcscd and the vpcd driver (Debian paths, or KEYBRIDGE_PCSCD /
 * KEYBRIDGE_VPCD_DRIVER as the Nix package sets them), and its hints on NixOS. Nothing here starts
 * a pcscd: every case fails before that.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { missingHint, rigUnavailableReason, startRig } from '../../src/rig/pcscd.ts';

const saved = { pcscd: process.env.KEYBRIDGE_PCSCD, vpcd: process.env.KEYBRIDGE_VPCD_DRIVER };
afterEach(() => {
  for (const [k, v] of [['KEYBRIDGE_PCSCD', saved.pcscd], ['KEYBRIDGE_VPCD_DRIVER', saved.vpcd]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('rig: pcscd and vpcd locations', () => {
  it('KEYBRIDGE_PCSCD naming a missing file stops the rig before anything starts', async () => {
    process.env.KEYBRIDGE_PCSCD = '/nonexistent/bin/pcscd';
    expect(rigUnavailableReason()).toBe(missingHint('pcscd'));
    await expect(startRig()).rejects.toMatchObject({ code: 'PCSCD_MISSING' });
  });

  it('KEYBRIDGE_VPCD_DRIVER naming a missing file: VPCD_MISSING', async () => {
    process.env.KEYBRIDGE_PCSCD = process.execPath; // any existing file passes the pcscd check
    process.env.KEYBRIDGE_VPCD_DRIVER = '/nonexistent/libifdvpcd.so';
    expect(rigUnavailableReason()).toBe(missingHint('vpcd'));
    await expect(startRig()).rejects.toMatchObject({ code: 'VPCD_MISSING' });
  });

  it('both pointing at existing files: neither is reported missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keybridge-rig-paths-'));
    try {
      writeFileSync(join(dir, 'libifdvpcd.so'), '');
      process.env.KEYBRIDGE_PCSCD = process.execPath;
      process.env.KEYBRIDGE_VPCD_DRIVER = join(dir, 'libifdvpcd.so');
      const reason = rigUnavailableReason();
      expect([missingHint('pcscd'), missingHint('vpcd')]).not.toContain(reason);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rig: NixOS hints', () => {
  it('on NixOS the fix is the Nix package or the variables, not apt-get', () => {
    for (const what of ['pcscd', 'vpcd'] as const) {
      expect(missingHint(what, true)).not.toMatch(/apt-get/);
      expect(missingHint(what, true)).toMatch(/Nix package.*KEYBRIDGE_(PCSCD|VPCD_DRIVER)/);
      expect(missingHint(what, false)).toMatch(/apt-get install/);
    }
  });
});
