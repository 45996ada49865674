/** age-plugin-fido2-hmac's command line: v0.4.0's flags and outputs, and -y against the virtual key. */
import { afterEach, describe, expect, it } from 'vitest';
import { parseFlags } from '../../../src/plugins/fido2-hmac/cli.ts';
import { MAGIC_IDENTITY } from '../../../src/plugins/fido2-hmac/format.ts';
import { startVirtualFido2, type VirtualFido2 } from '../../../src/sim/fido2/server.ts';
import { DIST, run } from '../../helpers/run.ts';

const BIN = `${DIST}/age-plugin-fido2-hmac.mjs`;
const sims: VirtualFido2[] = [];
afterEach(async () => {
  for (const v of sims.splice(0)) await v.stop();
});

describe('age-plugin-fido2-hmac flags', () => {
  it('one or two dashes, -a VALUE and -a=VALUE, booleans, positionals', () => {
    expect(parseFlags(['-g', '--symmetric', '-a', 'ES256'])).toMatchObject({ generate: true, symmetric: true, algorithm: 'ES256' });
    expect(parseFlags(['--generate', '-algorithm=eddsa'])).toMatchObject({ generate: true, algorithm: 'eddsa' });
    expect(parseFlags(['-n'])).toMatchObject({ generate: true });
    expect(parseFlags(['--age-plugin=identity-v1'])).toMatchObject({ agePlugin: 'identity-v1' });
    expect(parseFlags(['-y', 'id.txt'])).toMatchObject({ toRecipient: true, positionals: ['id.txt'] });
    expect(() => parseFlags(['-x'])).toThrow('flag provided but not defined: -x');
    expect(() => parseFlags(['-a'])).toThrow('flag needs an argument: -a');
  });

  it('-m prints the magic identity (no newline), -v the version, -h the usage; bad flags exit 2', async () => {
    expect((await run(process.execPath, [BIN, '-m'])).stdout).toBe(MAGIC_IDENTITY);
    expect((await run(process.execPath, [BIN, '--version'])).stdout).toMatch(/^0\.4\.0 \(keybridge \d+\.\d+\.\d+\)\n$/);
    const h = await run(process.execPath, [BIN, '-h']);
    expect(h.code).toBe(0);
    expect(h.stderr).toContain('-g, --generate        Generate new credentials interactively.');
    expect(h.stderr).toContain('FIDO2_TOKEN');
    const bad = await run(process.execPath, [BIN, '--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('flag provided but not defined: -bogus');
    const alg = await run(process.execPath, [BIN, '-g', '-a', 'foo']);
    expect(alg.code).toBe(1);
    expect(alg.stderr).toBe('Unknown algorithm: "foo"');
    const none = await run(process.execPath, [BIN, '--age-plugin=bogus-v1']);
    expect(none.code).toBe(4);
  });

  it('-y prints v1 recipients without the key and v2 native recipients with it; FIDO2_TOKEN limits the keys', async () => {
    const v = await startVirtualFido2({ port: 0 });
    sims.push(v);
    const env = { ...process.env, KEYBRIDGE_FIDO2_TCP: v.endpoint };
    const g = await run(process.execPath, [BIN, '-g'], { env, input: 'y\n', noTty: true, timeoutMs: 30_000 });
    expect(g.code, g.stderr).toBe(0);
    const gs = await run(process.execPath, [BIN, '-g', '-s'], { env, input: 'y\n', noTty: true, timeoutMs: 30_000 });
    const id2 = /^AGE-PLUGIN-FIDO2-HMAC-1\S+$/m.exec(g.stdout)![0];
    const id1 = /^AGE-PLUGIN-FIDO2-HMAC-1\S+$/m.exec(gs.stdout)![0];
    const y = await run(process.execPath, [BIN, '-y'], { env, input: `# comment\n${id2}\n${id1}\n`, noTty: true, timeoutMs: 30_000 });
    expect(y.code, y.stderr).toBe(0);
    const pub2 = /# public key: (\S+)/.exec(g.stdout)![1]!;
    const pub1 = /# public key: (\S+)/.exec(gs.stdout)![1]!;
    expect(y.stdout).toBe(`${pub2}\n${pub1}\n`);
    const other = await run(process.execPath, [BIN, '-y'], { env: { ...env, FIDO2_TOKEN: '/dev/hidraw9', AGE_PLUGIN_FIDO2_HMAC_SKIP_NOT_FOUND: '1' }, input: `${id2}\n`, noTty: true, timeoutMs: 30_000 });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('Failed:');
  });
});
