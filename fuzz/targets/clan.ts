/**
 * clan: `sops/{users,machines}/<name>/key.json` read by readKeyJson (an Error, or JSON's
 * SyntaxError, that readClanKeys turns into the entry's problem report) and, one case in eight,
 * by readClanKeys itself through RepoFs from a scratch repository (writing the files costs more
 * than reading them): a malformed file is a problem report on its entry, never an exception,
 * and the age backend's recipients in clan.nix / its inventory read by the subset parser
 * (parseClanNix: NixSubsetError, or a plain Error for a value of the wrong shape). Messages and
 * problem reports are bounded.
 */
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RepoFs } from '../../src/repo/repoFs.ts';
import { readClanKeys, readKeyJson } from '../../src/repo/readers/clan.ts';
import { parseClanNix } from '../../src/repo/readers/clanNix.ts';
import { deepNesting, hostileText, mutatedText } from '../arbitraries.ts';
import { documented, parseNixChecked } from '../nixChecks.ts';
import { MAX_MESSAGE, registerTarget } from '../registry.ts';

const A = 'age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw';
const B = 'age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep';

// key.json as clan-core writes it (src/repo/exampleLayouts.ts): a list of {publickey, type}, or one object.
const keyJsonSamples = [JSON.stringify([{ publickey: A, type: 'age' }], null, 2), JSON.stringify({ publickey: B, type: 'age' }), JSON.stringify([{ publickey: A, type: 'age' }, { publickey: 'FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4', type: 'pgp' }])];
const entry = fc.record({ publickey: fc.oneof(fc.constantFrom(A, B, '', ` ${A} `), hostileText, fc.jsonValue({ maxDepth: 1 })), type: fc.oneof(fc.constantFrom('age', 'AGE', 'pgp', 'ssh', ''), fc.jsonValue({ maxDepth: 0 })) }, { requiredKeys: [] });
const keyJson = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...keyJsonSamples) },
  { weight: 6, arbitrary: mutatedText(keyJsonSamples) },
  { weight: 4, arbitrary: fc.oneof(fc.array(fc.oneof(entry, fc.jsonValue({ maxDepth: 1 })), { maxLength: 5 }), entry).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 3000 }).map((n) => JSON.stringify(Array<unknown>(n).fill({ publickey: A, type: 'age' }))) },
  { weight: 1, arbitrary: deepNesting },
  { weight: 2, arbitrary: fc.oneof(hostileText, fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null')) },
);

// clan.nix as src/repo/exampleLayouts.ts (clan-age) writes it, and the inventory and clan.core forms.
const clanNixSamples = [
  `{ self, inputs, ... }:\nlet\n  admin = "${A}";\n  raquel = "${B}";\nin\n{\n  meta.name = "example";\n  vars.settings.secretStore = "age";\n  vars.settings.recipients.default = [ admin raquel ];\n  vars.settings.recipients.hosts.galena = [ admin ];\n  inventory.machines = {\n    cinnabar = { deploy.targetHost = "root@cinnabar"; };\n    galena = { };\n  };\n}\n`,
  `{\n  inventory = { vars.settings.recipients = { default = [ "${A}" ]; hosts = { a = [ "${B}" ]; }; }; };\n}\n`,
  `{ ... }: { clan.core.vars.settings.recipients.hosts."m-1" = [ "${A}" ]; machines = import ./machines.nix; }\n`,
];
const nixValue = fc.oneof(fc.constantFrom(`[ "${A}" ]`, '[ admin ]', '[ 1 ]', '"x"', '{ }', '[ ]', 'null', 'import ./x.nix', `[ "${A}" ] ++ [ "${B}" ]`), hostileText.map((t) => JSON.stringify(t)));
const hostName = fc.oneof(fc.constantFrom('galena', '"m.1"', '__proto__', '"__proto__"', 'constructor', 'a-b'), fc.integer({ min: 200, max: 20_000 }).map((n) => 'm'.repeat(n)));
const clanNixGenerated = fc
  .tuple(fc.constantFrom('', 'inventory.', 'clan.core.'), fc.option(nixValue), fc.array(fc.tuple(hostName, nixValue), { maxLength: 3 }), fc.option(nixValue))
  .map(([at, def, hosts, whole]) => `{ self, ... }:\nlet\n  admin = "${A}";\nin\n{\n${whole !== null ? `  ${at}vars.settings.recipients = ${whole};\n` : ''}${def !== null ? `  ${at}vars.settings.recipients.default = ${def};\n` : ''}${hosts.map(([h, v]) => `  ${at}vars.settings.recipients.hosts.${h} = ${v};\n`).join('')}}\n`);
const clanNix = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...clanNixSamples) },
  { weight: 6, arbitrary: mutatedText(clanNixSamples) },
  { weight: 5, arbitrary: clanNixGenerated },
  { weight: 1, arbitrary: deepNesting.map((d) => `{ vars.settings.recipients.default = ${d}; }`) },
  { weight: 1, arbitrary: hostileText },
);

let scratch: { fs: RepoFs; root: string } | undefined;
function repo(): { fs: RepoFs; root: string } {
  if (!scratch) {
    const root = mkdtempSync(join(tmpdir(), 'keybridge-fuzz-clan-'));
    for (const d of ['sops/users/alice', 'sops/machines/galena']) mkdirSync(join(root, d), { recursive: true });
    process.once('exit', () => rmSync(root, { recursive: true, force: true }));
    scratch = { fs: new RepoFs(root), root };
  }
  return scratch;
}
const files = ['sops/users/alice/key.json', 'sops/machines/galena/key.json'];


registerTarget({
  name: 'clan',
  description: 'readClanKeys on generated user and machine key.json files, and parseClanNix on mutated and generated clan.nix recipients',
  input: fc.record({ user: keyJson, machine: keyJson, clanNix, viaRepo: fc.integer({ min: 0, max: 7 }).map((n) => n === 0) }),
  run({ user, machine, clanNix: nixText, viaRepo }) {
    for (const text of [user, machine]) {
      try {
        const keys = readKeyJson(text);
        if (keys.some((x) => typeof x !== 'string' || !x)) throw new Error('an empty or non-string key');
      } catch (e) {
        if (!(e instanceof Error && (e.constructor === Error || e instanceof SyntaxError) && e.message.length <= MAX_MESSAGE)) throw e;
      }
    }
    if (viaRepo) readThroughRepo(user, machine);
    parseNixChecked(nixText, 'clan.nix', true);
    try {
      const r = parseClanNix(nixText);
      if (r) for (const list of [r.default ?? [], ...r.hosts.values()]) if (list.some((x) => typeof x !== 'string')) throw new Error('a recipient that is not a string');
    } catch (e) {
      if (!documented(e)) throw e;
    }
  },
  documented: () => false,
});

function readThroughRepo(user: string, machine: string): void {
    const { fs, root } = repo();
    writeFileSync(join(root, files[0]!), user);
    writeFileSync(join(root, files[1]!), machine);
    const keys = readClanKeys(fs, { files, dirs: ['sops/users/alice', 'sops/machines/galena'], dirLinks: [] });
    if (keys.length !== 2) throw new Error(`${keys.length} entries for two key.json files`);
    for (const k of keys) {
      if ((k.error?.length ?? 0) > MAX_MESSAGE || (k.fsError?.length ?? 0) > MAX_MESSAGE) throw new Error('unbounded problem report');
      if (k.keys.some((x) => typeof x !== 'string' || !x)) throw new Error('an empty or non-string key');
    }
}
