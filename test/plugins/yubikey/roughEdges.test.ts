/**
 * Two texts of age-plugin-yubikey a new user tripped over, end to end on the virtual YubiKey:
 * the command suggested with one PIN try left must only verify the PIN (ykman has none that does:
 * its `piv access change-pin` changes the PIN), and the guided setup's name prompt must not show a
 * placeholder (`[age identity TAG_HEX]`) as if it were the default.
 */
import { expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { S } from '../../../src/plugins/yubikey/strings.ts';
import { describeWithRig } from '../../helpers/rig.ts';
import { DIST, ROOT, run } from '../../helpers/run.ts';
import { findTool, itWith } from '../../helpers/tools.ts';

const pivTool = findTool('yubico-piv-tool');
const python = findTool('python3');
const PTY = `${ROOT}scripts/pty-run.py`;
const NEW_PIN = '804217';

describeWithRig('age-plugin-yubikey: the last PIN try and the setup name prompt', (ctx) => {
  itWith([pivTool, python])('one try left: the suggested command verifies the PIN on a terminal, restores the tries and changes nothing', async () => {
    const yk = await ctx.yubikey({ serial: 24681357, version: '5.7.1', slot: 0 });
    yk.store.state.pinRetriesLeft = 1;
    const text = S.pinLastRetry(24681357);
    expect(text).not.toContain('change-pin');
    const suggested = /`(yubico-piv-tool [^`]+)`/.exec(text)![1]!;
    expect(suggested).toBe('yubico-piv-tool -a verify-pin');
    // As the user would run it: no PIN in argv, typed at the prompt (123456 is the default PIN).
    const r = await run('python3', [PTY, '--timeout', '20', '--expect', 'PIN', '--send', '@env', '--', ...suggested.split(' ')], {
      env: { ...ctx.env, PTY_SEND_1: '123456' },
      noTty: true,
      timeoutMs: 30_000,
    });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/Successfully verified PIN/);
    expect(yk.store.state.pinRetriesLeft).toBe(3);
    expect(yk.store.state.pinIsDefault).toBe(true); // still the same PIN
    await yk.stop();
  });

  itWith([python])('guided setup: the name prompt says what Enter gives, and Enter names the key after its tag', async () => {
    await ctx.yubikey({ serial: 13572468, version: '5.7.1', slot: 1 });
    // YubiKey 1, first free slot, name: Enter, PIN policy never, touch never, generate, then
    // the default PIN and PUK and a new PIN twice.
    const input = `1\n\n\n3\n3\ny\n123456\n12345678\n${NEW_PIN}\n${NEW_PIN}\n`;
    const r = await run(process.execPath, [`${DIST}/age-plugin-yubikey.mjs`], { input, env: ctx.env, cwd: ctx.dir, noTty: true });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(S.namePrompt);
    expect(r.stderr).not.toMatch(/TAG_HEX|HEX_TAG/);
    const [, file, tag] = /📝 Wrote the identity file (age-yubikey-identity-([0-9a-f]{8})\.txt)/.exec(r.stderr)!;
    expect(readFileSync(join(ctx.dir, file!), 'utf8')).toContain(`#         Name: age identity ${tag}\n`);
  });
});
