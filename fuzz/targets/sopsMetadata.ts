/**
 * The `sops` block of sops-encrypted files as validate reads it (parseSopsFile): YAML (the fast
 * path and the full reading), JSON, dotenv (`sops_key_groups__list_N__map_age__list_M__…`) and
 * INI (`[sops]`). Every index and count is bounded: only SopsMetadataError with a bounded message
 * escapes, and the groups found stay within SOPS_LIMITS.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { parseSopsFile, SOPS_LIMITS, SopsMetadataError } from '../../src/repo/readers/sopsFile.ts';
import { deepNesting, EXTREME_U32, hostileText, mutatedText, yamlAliasBomb } from '../arbitraries.ts';
import { boundedError, registerTarget } from '../registry.ts';

const FIX = '/work/shared/fixtures/sops-age/';
const A = 'age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw';
const B = 'age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep';
const ENC = 'ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]';
const fixture = (f: string) => readFileSync(FIX + f, 'utf8');
const dotenv = (groups: string[][]) => `A=${ENC}\n` + groups.flatMap((g, gi) => g.map((r, i) => `sops_key_groups__list_${gi}__map_age__list_${i}__map_recipient=${r}\nsops_key_groups__list_${gi}__map_age__list_${i}__map_enc=-----BEGIN AGE ENCRYPTED FILE-----\\nx\\n-----END AGE ENCRYPTED FILE-----\\n`)).join('\n') + '\nsops_version=3.9.4\n';
// The files sops writes (fixtures made by sops 3.7.1) and the example repo's layouts.
const bases: Record<'yaml' | 'json' | 'env' | 'ini', string[]> = {
  yaml: [fixture('example.yaml'), `a: ${ENC}\nsops:\n    key_groups:\n        - age:\n            - recipient: ${A}\n              enc: x\n        - age:\n            - recipient: ${B}\n              enc: y\n    version: 3.9.4\n`],
  json: [fixture('example.json'), JSON.stringify({ data: ENC, sops: { key_groups: [{ age: [{ recipient: A, enc: 'x' }] }, { age: [{ recipient: B }] }], version: '3.9.4' } }, null, 2)],
  env: [`A=${ENC}\nsops_age__list_0__map_recipient=${A}\nsops_age__list_1__map_recipient=${B}\nsops_version=3.9.4\n`, dotenv([[A, B], [B]])],
  ini: [fixture('example.ini')],
};
const names = { yaml: 'secrets/a.yaml', json: 'secrets/a.json', env: 'secrets/a.env', ini: 'secrets/a.ini' } as const;
const format = fc.constantFrom('yaml', 'json', 'env', 'ini') as fc.Arbitrary<keyof typeof bases>;
const index = fc.oneof(fc.constantFrom(...EXTREME_U32), fc.integer({ min: 0, max: 70 }), fc.constantFrom(999999999, 10_000, 63, 64, 9_999), fc.stringMatching(/^[0-9]{1,20}$/));
const flatKey = fc.tuple(fc.constantFrom('sops_', ''), fc.option(index), index, fc.constantFrom('recipient', 'enc', 'x')).map(([p, g, i, leaf]) => `${p}${g === null ? '' : `key_groups__list_${g}__map_`}age__list_${i}__map_${leaf}`);
const flatLines = fc.array(fc.tuple(flatKey, fc.oneof(fc.constantFrom(A, B, '', ' '), hostileText)), { minLength: 1, maxLength: 6 });
const yamlGroups = fc.array(fc.array(fc.oneof(fc.constantFrom(A, B), hostileText.map((t) => JSON.stringify(t))), { maxLength: 4 }), { maxLength: 5 });
const jsonish = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.record({ key_groups: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.array(fc.record({ age: fc.jsonValue({ maxDepth: 2 }) }), { maxLength: 70 })), age: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }));

const input = fc.oneof(
  { weight: 2, arbitrary: format.map((f) => ({ format: f, text: bases[f][0]! })) },
  { weight: 8, arbitrary: format.chain((f) => mutatedText(bases[f]).map((text) => ({ format: f, text }))) },
  { weight: 3, arbitrary: fc.tuple(flatLines, fc.constantFrom('env', 'ini') as fc.Arbitrary<'env' | 'ini'>).map(([ls, f]) => ({ format: f, text: (f === 'ini' ? '[sops]\n' : '') + ls.map(([k, v]) => `${k}${f === 'ini' ? ' = ' : '='}${v}`).join('\n') })) },
  { weight: 3, arbitrary: yamlGroups.map((gs) => ({ format: 'yaml' as const, text: `a: b\nsops:\n    key_groups:\n${gs.map((g) => `        - age:\n${g.map((r) => `            - recipient: ${r}\n`).join('')}`).join('')}` })) },
  { weight: 3, arbitrary: fc.tuple(jsonish, fc.boolean()).map(([sops, json]) => ({ format: json ? ('json' as const) : ('yaml' as const), text: json ? JSON.stringify({ a: 1, sops }) : `a: 1\nsops: ${JSON.stringify(sops)}\n` })) },
  { weight: 1, arbitrary: yamlAliasBomb.map((t) => ({ format: 'yaml' as const, text: t.replace(/^(\w+): \*/m, 'sops:\n    age: *') })) },
  { weight: 1, arbitrary: fc.tuple(deepNesting, fc.boolean()).map(([d, json]) => ({ format: json ? ('json' as const) : ('yaml' as const), text: json ? `{"sops": ${d}}` : `sops: ${d}\n` })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(' \n', '\n', '  # c\n', '\t\n'), fc.integer({ min: 10_000, max: 100_000 }), fc.boolean()).map(([piece, n, ok]) => ({ format: 'yaml' as const, text: `a: b\nsops:\n${piece.repeat(n)}${ok ? `    age:\n        - recipient: ${A}\n` : ''}` })) },
  { weight: 2, arbitrary: fc.tuple(format, hostileText).map(([f, text]) => ({ format: f, text: f === 'ini' ? `[sops]\n${text}` : f === 'env' ? `sops_${text}` : `sops:\n${text}` })) },
);

registerTarget({
  name: 'sops-metadata',
  description: 'parseSopsFile on the sops block of mutated and generated YAML, JSON, dotenv and INI files (key_groups, list indexes, alias bombs, deep nesting)',
  input,
  run({ format, text }) {
    const meta = parseSopsFile(text, names[format]);
    if (meta === null) return;
    if (meta.groups.length > SOPS_LIMITS.groups) throw new Error(`${meta.groups.length} groups`);
    for (const g of meta.groups) {
      if (g.length > SOPS_LIMITS.recipients) throw new Error(`${g.length} recipients in a group`);
      if (g.some((r) => typeof r !== 'string')) throw new Error('a recipient that is not a string');
    }
  },
  documented: (e) => boundedError(e, SopsMetadataError),
});
