/** `keybridge udev install`: writes the shipped rules atomically, says what it changes, keeps a backup. */
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULES_NAME, installRules, shippedRules } from '../../src/cli/udev.ts';
import { keybridge } from '../helpers/run.ts';

describe('keybridge udev', () => {
  it('the rules grant hidraw FIDO devices to the seat user and plugdev', () => {
    const r = shippedRules();
    expect(r).toContain('SUBSYSTEM!="hidraw", GOTO="keybridge_tokens_end"');
    expect(r).toContain('ENV{ID_SECURITY_TOKEN}=="1", TAG+="uaccess", GROUP="plugdev", MODE="0660"');
    expect(r).toMatch(/ATTRS\{idVendor\}=="2e8a"/);
  });

  it('install: create, unchanged, replace with a backup; dry run changes nothing; udevadm commands are printed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-udev-'));
    const ran: string[] = [];
    const run = async (cmd: string, args: string[]) => void ran.push([cmd, ...args].join(' '));
    const dry = await installRules({ dir, dryRun: true, reload: true, run });
    expect(dry).toEqual([`would create ${join(dir, RULES_NAME)}`, 'would run udevadm control --reload', 'would run udevadm trigger --subsystem-match=hidraw --action=change']);
    expect(existsSync(join(dir, RULES_NAME))).toBe(false);
    expect(ran).toEqual([]);
    const first = await installRules({ dir, dryRun: false, reload: true, run });
    expect(first[0]).toBe(`create ${join(dir, RULES_NAME)}`);
    expect(first).toContain('unplug and replug your FIDO2 keys once');
    expect(ran).toEqual(['udevadm control --reload', 'udevadm trigger --subsystem-match=hidraw --action=change']);
    expect(readFileSync(join(dir, RULES_NAME), 'utf8')).toBe(shippedRules());
    expect(await installRules({ dir, dryRun: false, reload: true, run })).toEqual([`unchanged: ${join(dir, RULES_NAME)}`]);
    writeFileSync(join(dir, RULES_NAME), '# an older version\n');
    const again = await installRules({ dir, dryRun: false, reload: false });
    expect(again[0]).toBe(`replace ${join(dir, RULES_NAME)} (the previous version is kept as ${join(dir, RULES_NAME)}.bak)`);
    expect(readFileSync(join(dir, `${RULES_NAME}.bak`), 'utf8')).toBe('# an older version\n');
  });

  it('the built CLI prints the changes; a missing directory is a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-udev-'));
    const r = await keybridge(['udev', 'install', '--dir', dir, '--no-reload']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`create ${join(dir, RULES_NAME)}\nunplug and replug your FIDO2 keys once\n`);
    const show = await keybridge(['udev', 'show']);
    expect(show.stdout).toBe(shippedRules());
    const missing = await keybridge(['udev', 'install', '--dir', join(dir, 'nope'), '--no-reload']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('does not exist');
  });
});
