/**
 * The identity-v1 transcript of the reference (age-plugin-protocol.md §12.1, yubikey-piv.md §5),
 * byte for byte, with the plugin binary talking to a virtual YubiKey that holds the vector's key.
 */
import { expect } from 'vitest';
import { spawn } from 'node:child_process';
import { describeWithRig } from '../../helpers/rig.ts';
import { DIST } from '../../helpers/run.ts';
import { itWith } from '../../helpers/tools.ts';

describeWithRig('age-plugin-yubikey identity-v1 transcript', (ctx) => {
  itWith([])('matches the published transcript (PIN asked, file key returned)', async () => {
    const yk = await ctx.yubikey({ serial: 12345678, version: '5.4.3' });
    // The vector's recipient scalar, imported into slot R1 with PIN policy once and no touch.
    yk.store.state.slots['82'] = { algorithm: 0x11, privateKey: '31e08ce7c3394eaf680b1698eb6c6e2eaf1bfe438d12fa5b6a6b18577a83dedf', pinPolicy: 2, touchPolicy: 1, origin: 2 };
    const child = spawn(process.execPath, [`${DIST}/age-plugin-yubikey.mjs`, '--age-plugin=identity-v1'], { env: ctx.env, detached: true });
    let out = '';
    const waitFor = (s: string) =>
      new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${JSON.stringify(s)}; got ${JSON.stringify(out)}`)), 30_000);
        const check = () => {
          if (out.endsWith(s)) {
            clearTimeout(t);
            child.stdout.off('data', check);
            resolve();
          }
        };
        child.stdout.on('data', check);
        check();
      });
    child.stdout.on('data', (d) => (out += d));
    child.stdin.write(
      '-> add-identity AGE-PLUGIN-YUBIKEY-1FESMCQYZQWK0A6QMMP3FW\n\n' +
        '-> recipient-stanza 0 piv-p256 A6z+6A AglmI9ZmdjXo2jE0WyyzR96T+3E1CCUKmcEC26+ZZGJ7\n' +
        'tOGlHuZ4s1GI+qXCb4xxWZ+xi/4drd4Pjw7Mx8NWCik\n' +
        '-> done\n\n',
    );
    await waitFor('-> request-secret\nRW50ZXIgUElOIGZvciBZdWJpS2V5IHdpdGggc2VyaWFsIDEyMzQ1Njc4\n');
    child.stdin.write('-> ok\nMTIzNDU2\n');
    await waitFor('-> file-key 0\nAAECAwQFBgcICQoLDA0ODw\n');
    child.stdin.write('-> ok\n\n');
    await waitFor('-> done\n\n');
    child.stdin.end();
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(out).toBe(
      '-> request-secret\nRW50ZXIgUElOIGZvciBZdWJpS2V5IHdpdGggc2VyaWFsIDEyMzQ1Njc4\n' + '-> file-key 0\nAAECAwQFBgcICQoLDA0ODw\n' + '-> done\n\n',
    );
  });
});
