/**
 * ssh-to-age throughput: converts a generated 100,000-line authorized_keys file and prints
 * keys/second and wall time, for the library call and for the bundled CLI, next to the per-key
 * BigInt baseline (noble `toMontgomery` for each key, what src/ssh/convert.ts used to do).
 *
 * The Go reference (Mic92/ssh-to-age) cannot be built on this machine (no Go module proxy), so
 * it is not measured; the comparison is with the baseline.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ed25519 } from '@noble/curves/ed25519.js';
import { FpInvertBatch } from '@noble/curves/abstract/modular.js';
import { bech32 } from '@scure/base';
import { convertPublicKeyLines } from '../src/ssh/lines.ts';
import { selectQuadraticResidueBackend } from '../src/ssh/quadraticResidue.ts';

const LINES = 100_000;
const SAMPLE = 10_000;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function sshString(b: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/**
 * 100,000 distinct real public keys, fast: Q_i = Q_0 + i·B (random Q_0), then one batched
 * inversion for all affine coordinates (noble field and point operations).
 */
function distinctPublicKeys(count: number): Uint8Array[] {
  const { Point } = ed25519;
  const Fp = Point.Fp;
  const points = [Point.fromBytes(ed25519.getPublicKey(ed25519.utils.randomSecretKey()))];
  for (let i = 1; i < count; i++) points.push(points[i - 1]!.add(Point.BASE));
  const inverses = FpInvertBatch(Fp, points.map((p) => p.Z));
  return points.map((p, i) => {
    const x = Fp.mul(p.X, inverses[i]!);
    const y = Fp.mul(p.Y, inverses[i]!);
    const out = Buffer.from(y.toString(16).padStart(64, '0'), 'hex').reverse();
    if (x & 1n) out[31]! |= 0x80;
    return new Uint8Array(out);
  });
}

function generate(): { text: string; pubs: Uint8Array[] } {
  const pubs = distinctPublicKeys(LINES);
  const type = sshString(Buffer.from('ssh-ed25519'));
  const lines = pubs.map((pub, i) => {
    const b64 = Buffer.concat([type, sshString(pub)]).toString('base64');
    if (i % 10 === 0) return `from="10.0.${i % 250}.0/24",no-pty,command="/usr/bin/backup --host ${i}" ssh-ed25519 ${b64} backup-${i}`;
    if (i % 10 === 1) return `  ssh-ed25519 ${b64}`;
    return `ssh-ed25519 ${b64} user${i}@host${i % 97}.example.org`;
  });
  return { text: lines.join('\n') + '\n', pubs };
}

function time<T>(f: () => T): { ms: number; value: T } {
  const start = performance.now();
  const value = f();
  return { ms: performance.now() - start, value };
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const perKeyUs = (ms: number, keys: number) => (ms * 1000) / keys;

console.log(`ssh-to-age benchmark: ${LINES.toLocaleString('en-US')}-line authorized_keys (plain lines, options with quoted spaces, indented lines)`);
const gen = time(generate);
const { text, pubs } = gen.value;
const keyCount = pubs.length;
if (new Set(pubs.map((p) => Buffer.from(p).toString('hex'))).size !== keyCount) throw new Error('generated keys are not distinct');
console.log(`  generated ${keyCount.toLocaleString('en-US')} ed25519 keys in ${fmt(gen.ms / 1000, 2)} s (${fmt(text.length / 1e6, 1)} MB)`);

// 1. Library: batched conversion, OpenSSL exponentiation for the point check.
selectQuadraticResidueBackend('openssl');
convertPublicKeyLines(text.slice(0, 20_000)); // warm-up
const runs = [0, 1, 2].map(() => time(() => convertPublicKeyLines(text)));
const best = runs.reduce((a, b) => (a.ms < b.ms ? a : b));
if (best.value.error || best.value.results.length !== keyCount) throw new Error('benchmark input did not convert completely');
const libUs = perKeyUs(best.ms, keyCount);
console.log(`  keybridge library (batched, exact point check via OpenSSL): ${fmt(best.ms)} ms wall, ${fmt(keyCount / (best.ms / 1000), 0)} keys/s, ${fmt(libUs, 2)} µs/key (best of 3)`);

// 2. Same pipeline with the BigInt exponentiation (fallback backend), on a sample.
const sampleText = text.split('\n').slice(0, SAMPLE).join('\n');
const sampleKeys = sampleText.split('\n').filter((l) => l.includes('ssh-ed25519')).length;
selectQuadraticResidueBackend('noble');
const nobleRun = time(() => convertPublicKeyLines(sampleText));
selectQuadraticResidueBackend('openssl');
const nobleUs = perKeyUs(nobleRun.ms, sampleKeys);
console.log(`  keybridge library, BigInt fallback backend: ${fmt(nobleUs, 2)} µs/key (${sampleKeys.toLocaleString('en-US')}-key sample)`);

// 3. Baseline: per-key BigInt decompression + inversion (noble toMontgomery) + bech32.
const samplePubs = pubs.slice(0, SAMPLE);
const baseline = time(() => samplePubs.map((pub) => bech32.encode('age', bech32.toWords(ed25519.utils.toMontgomery(pub)), 90)));
const baseUs = perKeyUs(baseline.ms, SAMPLE);
const ours = convertPublicKeyLines(sampleText).results.flatMap((r) => ('recipient' in r ? [r.recipient] : []));
const agree = baseline.value.every((r, i) => r === ours[i]);
console.log(`  baseline (per-key noble toMontgomery): ${fmt(baseUs, 2)} µs/key → ${fmt((baseUs * keyCount) / 1e6, 2)} s for the file; outputs identical: ${agree}`);

// 4. The bundled CLI, end to end (Node start-up, read, convert, write), as package.json runs it;
// peak RSS through GNU time when it is installed.
const dist = join(ROOT, 'dist', 'ssh-to-age.cjs');
let cliLine = '  CLI: dist/ssh-to-age.cjs missing (run npm run build)';
if (existsSync(dist)) {
  const dir = mkdtempSync(join(tmpdir(), 'kb-bench-'));
  const input = join(dir, 'authorized_keys');
  writeFileSync(input, text);
  const gnuTime = existsSync('/usr/bin/time');
  const bare = Math.min(...[0, 1, 2, 3, 4].map(() => time(() => spawnSync(process.execPath, ['-e', '0'])).ms));
  let best: { ms: number; rss: number; lines: number } | undefined;
  for (let run = 0; run < 3; run++) {
    const cli = time(() =>
      gnuTime ? spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, dist, '-i', input], { maxBuffer: 64 << 20 }) : spawnSync(process.execPath, [dist, '-i', input], { maxBuffer: 64 << 20 }),
    );
    if (cli.value.status !== 0) throw new Error(`CLI failed: ${cli.value.stderr.toString()}`);
    const lines = cli.value.stdout.toString().split('\n').length - 1;
    if (lines !== keyCount) throw new Error(`CLI printed ${lines} recipients`);
    const rss = gnuTime ? Number(/(\d+)\s*$/.exec(cli.value.stderr.toString())?.[1]) / 1024 : NaN;
    if (!best || cli.ms < best.ms) best = { ms: cli.ms, rss, lines };
    best.rss = Math.max(best.rss, rss);
  }
  rmSync(dir, { recursive: true, force: true });
  cliLine =
    `  CLI (node dist/ssh-to-age.cjs -i FILE): ${fmt(best!.ms)} ms wall (best of 3; ${fmt(best!.ms / bare, 0)}× node -e 0 = ${fmt(bare)} ms) for ${best!.lines.toLocaleString('en-US')} recipients, ` +
    `${fmt(best!.lines / (best!.ms / 1000), 0)} keys/s including start-up; peak RSS ${gnuTime ? `${fmt(best!.rss, 0)} MB (goal ≤ 100 MB)` : 'not measured (no /usr/bin/time)'}`;
}
console.log(cliLine);

console.log(`  speed-up over the per-key baseline: ${fmt(baseUs / libUs, 1)}× (BigInt fallback: ${fmt(baseUs / nobleUs, 1)}×)`);
console.log(
  '  Go reference (Mic92/ssh-to-age 1.3.0): not measured — it cannot be built here (no Go module proxy);' +
    ' the issue that set the goal measured it at about 1.7 s for this file on this machine (keybridge should not be slower).',
);
