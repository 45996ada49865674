/**
 * agenix `secrets.nix` read by the subset parser (parseSecretsNix, and the lenient reading that
 * collects the let-bound key names): mutated and generated files, deep nesting, long strings,
 * escapes and unterminated strings and comments. Only NixSubsetError, or the reader's plain
 * Error for a file of the wrong shape, escapes, with a bounded message.
 */
import fc from 'fast-check';
import { parseSecretsNix } from '../../src/repo/readers/agenix.ts';
import { deepNesting, hostileText, mutatedText } from '../arbitraries.ts';
import { documented, parseNixChecked } from '../nixChecks.ts';
import { registerTarget } from '../registry.ts';

const K1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHO7RxsrJCOXWqpvNz4yEDZSnmLDfhCvqmV8y0L3CT4h crs58@stibnite';
const K2 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBAn6PVmX6YJ4sBKT6rD9jcdTfpRsFd6H6mX2Pvi9QOh root@galena';
const A = 'age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw';
// The layout of src/repo/exampleLayouts.ts (agenix) and the forms agenix's README shows.
const samples = [
  `let\n  crs58 = "${K1}";\n  galena = "${K2}";\n  users = [ crs58 ];\nin\n{\n  "restic.age".publicKeys = users ++ [ galena ];\n  "smtp.age".publicKeys = [ crs58 galena ];\n}\n`,
  `let\n  user1 = "${K1}";\n  users = [ user1 ];\n  system1 = "${K2}";\n  systems = [ system1 ];\nin\n{\n  "secret1.age".publicKeys = [ user1 system1 ];\n  "secret2.age".publicKeys = users ++ systems;\n  "armored-secret.age" = {\n    publicKeys = [ user1 ];\n    armor = true;\n  };\n}\n`,
  `{ "a.age".publicKeys = [ "${A}" ]; /* c */ "b.age".publicKeys = [ ]; # x\n}\n`,
  `{ ... }:\nlet k = "${A}"; in { "x/y.age" = { publicKeys = [ k ]; }; inherit k; }\n`,
  `let a = { b = "${K1}"; }; in { "q.age".publicKeys = [ (a) ]; "r.age".publicKeys = [ ''multi\nline'' ]; }\n`,
];
const nixString = fc.oneof(
  fc.constantFrom(K1, A, '', '${x}', '\\${x}', 'a\\qb', 'a\\nb', 'tab\there', '\\u0041', '\\', '\u00e9\ufffd'),
  fc.string({ unit: 'binary', maxLength: 40 }),
).map((s) => `"${s.replace(/"/g, '\\"')}"`);
const value: fc.Arbitrary<string> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nixString,
    fc.constantFrom('k', 'users', 'true', 'null', '-1', '99999999999999999999', 'builtins.readFile ./x', 'import ./k.nix', '<nixpkgs>', 'x: x'),
    fc.array(tie('v'), { maxLength: 4 }).map((xs) => `[ ${xs.join(' ')} ]`),
    fc.tuple(tie('v'), tie('v')).map(([a, b]) => `${a} ++ ${b}`),
    fc.array(fc.tuple(fc.constantFrom('publicKeys', 'armor', 'a.b', '"x.age"', 'inherit'), tie('v')), { maxLength: 3 }).map((kv) => `{ ${kv.map(([k, v]) => (k === 'inherit' ? 'inherit k;' : `${k} = ${v};`)).join(' ')} }`),
  ),
})).v;
const generated = fc
  .tuple(fc.array(fc.tuple(fc.constantFrom('k', 'users', 'x-1', "y'"), value), { maxLength: 3 }), fc.array(fc.tuple(fc.oneof(nixString, fc.constantFrom('a', '__proto__', '"__proto__"', 'constructor', 'x.__proto__', 'x.y')), value), { maxLength: 4 }))
  .map(([lets, files]) => `${lets.length ? `let\n${lets.map(([n, v]) => `  ${n} = ${v};\n`).join('')}in\n` : ''}{\n${files.map(([f, v]) => `  ${f}.publicKeys = ${v};\n`).join('')}}\n`);
const text = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...samples) },
  { weight: 8, arbitrary: mutatedText(samples) },
  { weight: 5, arbitrary: generated },
  { weight: 1, arbitrary: deepNesting.map((d) => `{ "a.age".publicKeys = ${d}; }`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('"\\', '"', "''", '/*', '#', '{', '[ "a" '), fc.integer({ min: 1000, max: 20_000 })).map(([piece, n]) => `{ a = x ${piece.repeat(n)}; }`) },
  { weight: 2, arbitrary: hostileText },
);

registerTarget({
  name: 'secrets-nix',
  description: 'parseSecretsNix and the lenient subset parser on mutated and generated secrets.nix files (nesting, escapes, unterminated strings, long input)',
  input: text,
  run(t) {
    for (const lenient of [false, true]) parseNixChecked(t, 'secrets.nix', lenient);
    const r = parseSecretsNix(t);
    for (const keys of r.files.values()) if (keys.some((k) => typeof k !== 'string')) throw new Error('a public key that is not a string');
  },
  documented,
  timeoutMs: 5000,
});
