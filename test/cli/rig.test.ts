/**
 * `keybridge rig` and `keybridge sim` over the virtual token registry: the rig creates the
 * readers the registry names, plugs a token in, and an unmodified client (ykman) sees it.
 */
import { expect } from 'vitest';
import { spawn } from 'node:child_process';
import { describeWithRigLock } from '../helpers/rig.ts';
import { DIST, run } from '../helpers/run.ts';
import { findTool, itWith } from '../helpers/tools.ts';

function waitFor(child: ReturnType<typeof spawn>, text: string, got: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${JSON.stringify(text)}; got ${JSON.stringify(got())}`)), 20_000);
    const check = () => {
      if (got().includes(text)) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', () => (clearTimeout(t), reject(new Error(`exited; got ${JSON.stringify(got())}`))));
    check();
  });
}

describeWithRigLock('keybridge rig / sim through the token registry', () => {
  itWith([findTool('ykman')])('rig --yubikey: the reader named like a YubiKey, the token plugged in, ykman sees it; sim plugs a second one into slot 01', async () => {
    const rig = spawn(process.execPath, [`${DIST}/keybridge.mjs`, 'rig', '--yubikey', '--serial', '12345678'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    rig.stderr!.on('data', (d) => (err += d));
    try {
      await waitFor(rig, 'Ctrl-C to stop', () => err);
      expect(err).toContain('pcscd running with readers "Yubico YubiKey OTP+FIDO+CCID 00 00" (port 35963) and "Yubico YubiKey OTP+FIDO+CCID 00 01" (port 35964)');
      expect(err).toContain('virtual YubiKey serial 12345678 plugged in');
      const sim = spawn(process.execPath, [`${DIST}/keybridge.mjs`, 'sim', 'yubikey', '--serial', '23456789', '--port', '35964', '--version', '5.4.3'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let simErr = '';
      sim.stderr!.on('data', (d) => (simErr += d));
      await waitFor(sim, 'Ctrl-C to unplug', () => simErr);
      expect(simErr).toBe('virtual YubiKey 5.4.3 serial 23456789 plugged into vpcd port 35964; Ctrl-C to unplug\n');
      // pcscd notices the second card within a poll or two (longer on a loaded machine).
      const serials = async () => (await run('ykman', ['list', '--serials'])).stdout.split('\n').filter(Boolean).sort();
      let listed = await serials();
      for (const deadline = Date.now() + 30_000; listed.length < 2 && Date.now() < deadline; listed = await serials()) await new Promise((r) => setTimeout(r, 200));
      expect(listed).toEqual(['12345678', '23456789']);
      sim.kill('SIGINT');
      await new Promise((r) => sim.once('exit', r));
      expect(simErr).toContain('virtual YubiKey unplugged\n');
    } finally {
      rig.kill('SIGINT');
      await new Promise((r) => (rig.exitCode !== null ? r(null) : rig.once('exit', r)));
    }
    expect(err).toContain('rig stopped');
  }, 60_000);
});
