import { cpSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { noCardEnv, pluginRequests, runPlugin } from '../../scripts/pluginRequests.ts';
import { DIST, run } from '../helpers/run.ts';

// The plugins' executables run their files (dist/lib/<name>/) with the V8 code caches the build made (scripts/build.mjs).
const NAMES = ['yubikey', 'picohsm', 'fido2-hmac', 'fido2prf'];
const dir = mkdtempSync(join(tmpdir(), 'kb-codecache-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const requests = await pluginRequests();

/** A copy of a plugin's loader and files, with each cache replaced by `cache(original)` (removed when it gives undefined). */
function copy(name: string, cache: (original: Uint8Array) => Uint8Array | undefined, tag: string): string {
  const d = join(dir, tag);
  mkdirSync(join(d, 'lib'), { recursive: true });
  copyFileSync(join(DIST, `${name}.cjs`), join(d, `${name}.cjs`));
  cpSync(join(DIST, 'lib', name), join(d, 'lib', name), { recursive: true });
  for (const f of readdirSync(join(d, 'lib', name)).filter((f) => f.endsWith('.cache'))) {
    const c = cache(readFileSync(join(d, 'lib', name, f)));
    if (c) writeFileSync(join(d, 'lib', name, f), c);
    else rmSync(join(d, 'lib', name, f));
  }
  return join(d, `${name}.cjs`);
}

const caches = (d: string) => readdirSync(d).filter((f) => f.endsWith('.cache')).sort();

describe('plugin code cache', () => {
  it.each(NAMES)('age-plugin-%s: the caches are accepted by this node, and rejected or missing caches give the same answers', async (family) => {
    const name = `age-plugin-${family}`;
    const p = requests.find((r) => r.name === family)!;
    const answers = async (exe: string) => {
      const help = await run(process.execPath, [exe, '--help']);
      const recipient = await runPlugin([exe, '--age-plugin=recipient-v1'], p.recipientV1, noCardEnv(dir));
      const identity = await runPlugin([exe, '--age-plugin=identity-v1'], p.identityV1, noCardEnv(dir));
      // a recipient-v1 stanza holds a fresh ephemeral key: compare its shape
      const shape = (s: string) => s.replace(/^(-> recipient-stanza 0 \S+)( \S+)*\n[A-Za-z0-9+/\n]+/gm, '$1');
      return { help: [help.code, help.stdout + help.stderr], recipient: [recipient.status, shape(recipient.stdout), recipient.stderr], identity: [identity.status, identity.stdout, identity.stderr] };
    };
    const expected = await answers(join(DIST, `${name}.cjs`));
    expect(expected.help[1]).toMatch(/Usage/);
    expect(expected.recipient[1]).toMatch(p.recipientReply);
    expect(await answers(copy(name, (c) => Uint8Array.from(c).fill(0x5a, 16, 64), `${name}-damaged`))).toEqual(expected);
    expect(await answers(copy(name, () => new Uint8Array(3), `${name}-short`))).toEqual(expected);
    expect(await answers(copy(name, () => undefined, `${name}-none`))).toEqual(expected);
    // V8 takes every cache the build made (a cache it rejects would be dead weight in the package)
    const { Script } = await import('node:vm');
    const { wrap } = await import('node:module');
    const lib = join(DIST, 'lib', name);
    expect(caches(lib).length).toBeGreaterThan(0);
    for (const f of caches(lib)) {
      const file = join(lib, f.slice(0, -'.cache'.length));
      expect(new Script(wrap(readFileSync(file, 'utf8')), { filename: file, cachedData: readFileSync(join(lib, f)) }).cachedDataRejected, f).toBe(false);
    }
  });

  it.each(NAMES)('age-plugin-%s: a lone --age-plugin=NAME takes its files from that mode\'s pack', async (family) => {
    const name = `age-plugin-${family}`;
    const p = requests.find((r) => r.name === family)!;
    const exe = copy(name, (c) => c, `${name}-packed`);
    const lib = join(dir, `${name}-packed`, 'lib', name);
    // the pack's first line names its files
    const packed = (mode: string) => JSON.parse(/: (\[.*\])$/m.exec(readFileSync(join(lib, `start.${mode}.pack.cjs`), 'utf8').split('\n', 1)[0]!)![1]!) as string[];
    const recipient = packed('recipient-v1');
    const identity = packed('identity-v1');
    expect(recipient).toContain(`${name}.cjs`);
    expect(identity).toContain(`${name}.cjs`);
    // a wrap reads none of the code that only an unwrap runs (the PC/SC families' card access)
    expect(recipient.filter((f) => f.startsWith('pcsc'))).toEqual([]);
    if (family === 'yubikey' || family === 'picohsm') expect(identity.filter((f) => f.startsWith('pcsc')).length).toBeGreaterThan(0);
    // the pack bundles the files and nothing else: every library module in it was in one of them
    const libraries = (text: string) => new Set([...text.matchAll(/^\s*\/\/ (node_modules\/\S+)$/gm)].map((m) => m[1]!));
    for (const mode of ['recipient-v1', 'identity-v1']) {
      const inFiles = new Set(packed(mode).flatMap((f) => [...libraries(readFileSync(join(lib, f), 'utf8'))]));
      expect([...libraries(readFileSync(join(lib, `start.${mode}.pack.cjs`), 'utf8'))].filter((l) => !inFiles.has(l)), mode).toEqual([]);
    }
    for (const f of new Set([...recipient, ...identity])) rmSync(join(lib, f)), rmSync(join(lib, `${f}.cache`), { force: true });
    const shape = (s: string) => s.replace(/^(-> recipient-stanza 0 \S+)( \S+)*\n[A-Za-z0-9+/\n]+/gm, '$1');
    for (const [mode, input] of [['recipient-v1', p.recipientV1], ['identity-v1', p.identityV1]] as const) {
      const fromDist = await runPlugin([join(DIST, `${name}.cjs`), `--age-plugin=${mode}`], input, noCardEnv(dir));
      const fromPack = await runPlugin([exe, `--age-plugin=${mode}`], input, noCardEnv(dir));
      expect([fromPack.status, shape(fromPack.stdout), fromPack.stderr], mode).toEqual([fromDist.status, shape(fromDist.stdout), fromDist.stderr]);
    }
    // the files stay beside the pack for the other modes
    expect((await run(process.execPath, [exe, '--help'])).code).not.toBe(0);
  });

  it.each(['fido2-hmac', 'fido2prf'])('age-plugin-%s: from its packs, looks for FIDO2 keys over USB HID through node-hid (none here)', async (family) => {
    const name = `age-plugin-${family}`;
    const p = requests.find((r) => r.name === family)!;
    const env: NodeJS.ProcessEnv = { ...noCardEnv(dir) };
    delete env.KEYBRIDGE_FIDO2_TCP;
    const messages = (out: string) => [...out.matchAll(/^-> error \S+(?: \d+)?\n((?:[A-Za-z0-9+/]+\n)*)/gm)].map((m) => Buffer.from(m[1]!.replace(/\n/g, ''), 'base64').toString());
    for (const [mode, input] of [['recipient-v1', p.recipientV1], ['identity-v1', p.identityV1]] as const) {
      const r = await runPlugin([join(DIST, `${name}.cjs`), `--age-plugin=${mode}`], input, env);
      expect(r.status, mode).toBe(0);
      expect(r.stderr, mode).toBe('');
      // node-hid found its addon and no key: skipped (fido2-hmac's identity), or the plugin's own "no key" answer
      for (const m of messages(r.stdout)) expect(m, mode).not.toMatch(/binding|Cannot find module|node-hid/i);
      if (family === 'fido2-hmac' && mode === 'identity-v1') expect(r.stdout).toBe('-> done\n\n');
    }
  });

  it('the JavaScript in dist is ASCII (V8 holds any other source as two bytes per character)', () => {
    const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : /\.[cm]?js$/.test(e.name) ? [join(d, e.name)] : []));
    const js = files(DIST);
    expect(js.length).toBeGreaterThan(20);
    expect(js.filter((f) => /[^\x00-\x7f]/.test(readFileSync(f, 'latin1')))).toEqual([]);
  });

  it.each(NAMES)('age-plugin-%s: every file that --help, --version, recipient-v1 and identity-v1 load has a cache', async (family) => {
    const name = `age-plugin-${family}`;
    const p = requests.find((r) => r.name === family)!;
    const exe = copy(name, (c) => c, `${name}-modes`);
    const loaded = join(dir, `${name}-loaded`);
    mkdirSync(loaded);
    const env = { ...noCardEnv(dir), KEYBRIDGE_CODE_CACHE_OUT: loaded };
    await run(process.execPath, [exe, '--help'], { env });
    if (p.version) await run(process.execPath, [exe, '--version'], { env });
    await runPlugin([exe, '--age-plugin=recipient-v1'], p.recipientV1, env);
    await runPlugin([exe, '--age-plugin=identity-v1'], p.identityV1, env);
    const made = caches(join(DIST, 'lib', name));
    expect(caches(loaded).length).toBeGreaterThan(1);
    expect(caches(loaded).filter((f) => !made.includes(f))).toEqual([]);
    // and the entry does not load the whole plugin: card commands and X.509 stay on disk
    expect(caches(loaded).length).toBeLessThan(readdirSync(join(DIST, 'lib', name)).filter((f) => f.endsWith('.cjs')).length);
  });
});
