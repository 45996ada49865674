/**
 * `.sops.yaml` as validate reads it: parseSopsConfig (the line reader for the common layout and
 * the full YAML reading behind it), then every path_regex compiled and matched. Only
 * SopsConfigError with a bounded message escapes; when the line reader accepts a file its
 * reading is the full parser's.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { matchRule, parseCommonLayout, parseSopsConfig, parseSopsConfigYaml, SopsConfigError } from '../../src/repo/readers/sopsConfig.ts';
import { deepNesting, hostileText, mutatedText, yamlAliasBomb } from '../arbitraries.ts';
import { boundedError, registerTarget } from '../registry.ts';

const A = 'age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw';
const B = 'age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep';
const fixture = readFileSync('/work/shared/fixtures/sops-age/dotsops.yaml', 'utf8');

// The layouts of src/repo/exampleLayouts.ts and what sops-nix, clan and the sops docs show.
const samples = [
  fixture,
  `keys:\n  - &admin ${A} # offline recovery key\n  - &crs58-stibnite ${B}\ncreation_rules:\n  - path_regex: secrets/hosts/stibnite/[^/]+\\.yaml$\n    key_groups:\n      - age: [*admin, *crs58-stibnite]\n  - path_regex: (secrets/shared\\.yaml$|secrets/services/.*\\.yaml$)\n    key_groups:\n      - age:\n          - *admin\n          - *crs58-stibnite\n`,
  `keys:\n  - &crs58 ${A}\n  - &pyrite ${B}\ncreation_rules:\n  - path_regex: secrets/hosts/pyrite/.*\\.yaml$\n    key_groups:\n      - age: [*crs58, *pyrite]\n`,
  `creation_rules:\n  - path_regex: \\.dev\\.yaml$\n    age: ${A},${B}\n  - age: "${A}"\n`,
  `keys:\n  - &a ${A}\ncreation_rules:\n  - path_regex: "^secrets/.*"\n    key_groups:\n    - age:\n      - *a\n      - ${B}\n    - age: [*a]\n  - path_regex: x\n    age: *a\n`,
  `creation_rules:\n  - path_regex: .*\n    age: >-\n      ${A},\n      ${B}\n`,
  `{"creation_rules": [{"path_regex": "a.*b", "key_groups": [{"age": ["${A}"]}]}]}\n`,
  `keys: []\ncreation_rules: []\n`,
];
const paths = fc.constantFrom('secrets/hosts/stibnite/a.yaml', 'secrets/shared.yaml', 'x.dev.yaml', 'a/b/c.json', '', 'é/\u0000', 'a'.repeat(3000));
const regex = fc.constantFrom('^(a+)+$', '(?P<n>x)', '\\p{L}+', '[[:alpha:]]', '(?i)A', 'a{1000}{1000}', '\\', '(', '*', 'x{99999}', '\\C', '(?=a)', '\\1', '[z-a]');
const structured = fc
  .tuple(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c-d', 'x_1'), fc.constantFrom(A, B, 'age1bad', '')), { maxLength: 4 }), fc.array(fc.tuple(regex, fc.array(fc.constantFrom('*a', '*b', '*c-d', '*nope', A, '5', '{}'), { maxLength: 4 })), { minLength: 1, maxLength: 4 }))
  .map(([keys, rules]) => `keys:\n${keys.map(([n, v]) => `  - &${n} ${v}\n`).join('')}creation_rules:\n${rules.map(([r, g]) => `  - path_regex: '${r}'\n    key_groups:\n      - age: [${g.join(', ')}]\n`).join('')}`);
const wrongShape = fc.constantFrom('keys: 5\n', 'creation_rules: {a: 1}\n', 'creation_rules: 5\n', '- 1\n- 2\n', 'creation_rules:\n  - 5\n', 'creation_rules:\n  - key_groups: 5\n', 'creation_rules:\n  - key_groups: [5]\n', 'creation_rules:\n  - path_regex: [1]\n', 'creation_rules:\n  - age: [[1]]\n', `creation_rules:\n  - key_groups:\n${'      - age: x\n'.repeat(70)}`, 'creation_rules:\n  - age: *x\n', `keys:\n  - &a ${A}\ncreation_rules: *a\n`, `r: &r\n  - path_regex: x\n    age: ${A}\ncreation_rules: *r\n`, `keys: &k\n  - ${A}\ncreation_rules: *k\n`, 'x: &m {a: 1}\nkeys: *m\n', `g: &g {age: ${A}}\ncreation_rules:\n  - key_groups: *g\n`, '\u0000\u0001', '%YAML 9\n---\n', '--- !!binary AAAA\n', '&a [*a]\n');
const text = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...samples) },
  { weight: 32, arbitrary: mutatedText(samples) },
  { weight: 12, arbitrary: structured },
  { weight: 8, arbitrary: wrongShape },
  // Deep nesting costs the YAML reader a stack overflow (caught, reported as invalid YAML): rare.
  { weight: 1, arbitrary: deepNesting.map((d) => `creation_rules: ${d}\n`) },
  { weight: 4, arbitrary: yamlAliasBomb },
  { weight: 8, arbitrary: hostileText },
);

registerTarget({
  name: 'sops-config',
  description: 'parseSopsConfig (line reader and full YAML), path_regex compilation and matching on mutated, misshapen and hostile .sops.yaml files',
  input: fc.record({ text, paths: fc.array(paths, { minLength: 1, maxLength: 3 }) }),
  run({ text, paths }) {
    const cfg = parseSopsConfig(text);
    const common = parseCommonLayout(text);
    if (common && !isDeepStrictEqual(common, parseSopsConfigYaml(text))) throw new Error('the line reader and the YAML reader disagree');
    for (const p of paths) {
      const r = matchRule(cfg, p);
      if (r && !cfg.rules.includes(r)) throw new Error('matched a rule that is not in the config');
    }
  },
  documented: (e) => boundedError(e, SopsConfigError),
});
