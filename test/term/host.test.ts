/** NixOS detection and the hints that depend on it (pcscd for the YubiKey plugin). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostIsNixOS } from '../../src/term/host.ts';
import { pcscdNotRunning, S } from '../../src/plugins/yubikey/strings.ts';

describe('hostIsNixOS', () => {
  it('recognises NixOS by its os-release, and not Debian or a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keybridge-os-release-'));
    try {
      writeFileSync(join(dir, 'nixos'), 'NAME=NixOS\nID=nixos\nVERSION_ID="25.05"\n');
      writeFileSync(join(dir, 'quoted'), 'ID="nixos"\n');
      writeFileSync(join(dir, 'debian'), 'NAME="Debian GNU/Linux"\nID=debian\nID_LIKE=nixos-ish\n');
      expect(hostIsNixOS(join(dir, 'nixos'))).toBe(true);
      expect(hostIsNixOS(join(dir, 'quoted'))).toBe(true);
      expect(hostIsNixOS(join(dir, 'debian'))).toBe(false);
      expect(hostIsNixOS(join(dir, 'missing'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('age-plugin-yubikey: pcscd not running', () => {
  it('on NixOS the fix is services.pcscd.enable, elsewhere apt-get and systemctl', () => {
    expect(pcscdNotRunning(true)).toContain('services.pcscd.enable = true;');
    expect(pcscdNotRunning(true)).not.toMatch(/apt-get|systemctl/);
    expect(pcscdNotRunning(false)).toContain('sudo apt-get install pcscd');
  });

  it('the plugin uses the variant for this host (Debian here)', () => {
    expect(S.pcscdNotRunning).toBe(pcscdNotRunning(hostIsNixOS()));
  });
});
