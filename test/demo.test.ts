import { expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { keybridge } from './helpers/run.ts';
import { findTool, itWith } from './helpers/tools.ts';
import { describeWithRigLock } from './helpers/rig.ts';

const needs = [findTool('age'), findTool('age-keygen'), findTool('ssh-keygen'), findTool('python3'), findTool('ykman')];

describeWithRigLock('keybridge demo', () => {
  itWith(needs)('runs every step and cleans up', async () => {
    const r = await keybridge(['demo'], { timeoutMs: 200_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {4}age1[02-9ac-hj-np-z]{58}$/m);
    expect(r.stdout).toMatch(/ok: age decrypted the file with the identity converted from the SSH host key/);
    expect(r.stdout).toMatch(/identity written to .*\(mode 0600\)/);
    expect(r.stdout).toMatch(/^Demo complete: \d+ steps/m);
    // the virtual YubiKey part: ykman sees it, the plugin generates, age encrypts, age -d decrypts via the plugin
    expect(r.stdout).toMatch(/Device type: YubiKey 5A/);
    expect(r.stdout).toMatch(/^ {4}#    Recipient: age1yubikey1\w+$/m);
    expect(r.stdout).toMatch(/header stanza: -> piv-p256 \S{6} \S{44}/);
    expect(r.stdout).toContain('database password: correct horse battery staple');
    expect(r.stdout).toMatch(/Enter PIN for YubiKey with serial \d+ \*{6}/);
    expect(r.stdout).not.toMatch(/Enter PIN for YubiKey with serial \d+ \d/);
    // The Pico HSM step: X25519 key on the virtual device, stock age encrypts, the plugin decrypts.
    expect(r.stdout).toMatch(/^ {4}#    Recipient: age1[02-9ac-hj-np-z]{58}$/m);
    expect(r.stdout).toMatch(/header stanza: -> X25519 \S{43}/);
    expect(r.stdout).toContain('api token: 7f3e-pico-hsm');
    // (the PIN may still be verified from --generate when pcscd has not powered the device off)
    expect(r.stdout).not.toMatch(/Enter PIN for Pico HSM with key "keybridge demo" \d/);
    expect(r.stdout).toMatch(/ok: decrypted with the virtual Pico HSM \(serial ESPH\d{7}\)/);
    // the virtual FIDO2 key: generate, encrypt to the native recipient, decrypt through the plugin with PIN and touch
    expect(r.stdout).toMatch(/^ {4}# public key: age1[02-9ac-hj-np-z]{58}$/m);
    expect(r.stdout).toMatch(/header stanza: -> X25519 \S{43}/);
    expect(r.stdout).toContain('api token: 7f3c-demo-only');
    expect(r.stdout).toMatch(/Please enter your PIN for FIDO2 key at 127\.0\.0\.1:\d+: \*{6}/);
    expect(r.stdout).toMatch(/Please touch your token \(FIDO2 key at 127\.0\.0\.1:\d+\)\.\.\./);
    expect(r.stdout).toContain('ok: decrypted with the virtual FIDO2 key');
    // the validation part
    expect(r.stdout).toMatch(/ok: all \d+ planted faults reported \(exit status 1\)/);
    expect(r.stdout).toContain('fix: sops updatekeys -y secrets/shared.yaml');
    expect(r.stdout).not.toMatch(/AGE-SECRET-KEY-1/);
    const dir = /working directory (\S+)\)/.exec(r.stdout)?.[1];
    expect(dir).toBeDefined();
    expect(existsSync(dir!)).toBe(false);
  }, 210_000);

  it('rejects unknown options with exit 2', async () => {
    const r = await keybridge(['demo', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/keybridge demo: .*bogus/);
  });
});

