/**
 * The native batch conversion (native/bignum.c through src/ssh/nativeMontgomery.ts) against the
 * independent model and the JS backends: the odd points, random 32-byte inputs, real keys, large
 * batches on the worker threads, its argument bounds, and the CLI with the addon switched off.
 * Without the addon the tests are skipped loudly, or fail under KEYBRIDGE_REQUIRE_E2E=1 (CI).
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { findAddon, loadAddon } from '../../src/nativeAddon.ts';
import { nativeMontgomeryUnavailableReason, startNativeEdwardsToMontgomery } from '../../src/ssh/nativeMontgomery.ts';
import { edwardsToMontgomeryPacked, montgomeryBackend, NATIVE_FROM, selectMontgomeryBackend } from '../../src/ssh/montgomery.ts';
import { PublicKeyLineConverter, convertPublicKeyLines, type LineResult } from '../../src/ssh/lines.ts';
import { EDGE_CASES, referenceMontgomery } from '../helpers/montgomeryModel.ts';
import { ROOT } from '../helpers/run.ts';
import { REQUIRE_E2E } from '../helpers/tools.ts';

const reason = nativeMontgomeryUnavailableReason();

if (reason && REQUIRE_E2E) {
  it('native bignum addon is built and passes its self-check', () => {
    throw new Error(`KEYBRIDGE_REQUIRE_E2E=1 but ${reason}`);
  });
} else if (reason) process.stderr.write(`SKIP native bignum addon: ${reason}\n`);

interface Addon {
  edwardsToMontgomery(keys: Uint8Array, us: Uint8Array, valid: Uint8Array): number;
}

const pack = (pubs: readonly Uint8Array[]) => {
  const keys = new Uint8Array(32 * pubs.length);
  pubs.forEach((p, i) => keys.set(p, 32 * i));
  return keys;
};
const native = (pubs: readonly Uint8Array[]) => {
  const { us, valid } = startNativeEdwardsToMontgomery(pack(pubs), pubs.length).finish();
  return pubs.map((_, i) => (valid[i] ? us.slice(32 * i, 32 * i + 32) : null));
};
const withBackend = <T>(backend: 'native' | 'openssl' | 'noble', f: () => T): T => {
  selectMontgomeryBackend(backend);
  try {
    return f();
  } finally {
    selectMontgomeryBackend('native');
  }
};

function sshLine(pub: Uint8Array, comment: string): string {
  const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), pub]);
  return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
}

describe.skipIf(!!reason)(`native bignum addon${reason ? ` [skipped: ${reason}]` : ''}`, () => {
  afterAll(() => selectMontgomeryBackend('native'));

  it('is the backend for batches, and not below NATIVE_FROM keys', () => {
    expect(selectMontgomeryBackend('native')).toBe('native');
    expect(montgomeryBackend(NATIVE_FROM)).toBe('native');
    expect(montgomeryBackend(NATIVE_FROM - 1)).not.toBe('native');
  });

  it('odd points (small order, non-canonical y, y = 1, off the curve) as the model, alone and in one batch', () => {
    const pubs = EDGE_CASES.map(([, pub]) => pub);
    const batch = native(pubs);
    EDGE_CASES.forEach(([name, pub], i) => {
      const expected = referenceMontgomery(pub);
      expect({ name, u: batch[i] }).toEqual({ name, u: expected });
      expect(native([pub])[0]).toEqual(expected);
      if (name.startsWith('y = 2')) expect(batch[i]).toBeNull();
      else if (!name.startsWith('all ones')) expect(batch[i]).not.toBeNull();
    });
  });

  it('random 32-byte inputs (about half invalid): native = noble BigInt = OpenSSL RSA backend = model', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: NATIVE_FROM, maxLength: NATIVE_FROM + 64 }), (pubs) => {
        const keys = pack(pubs);
        const n = withBackend('native', () => edwardsToMontgomeryPacked(keys, pubs.length));
        const noble = withBackend('noble', () => edwardsToMontgomeryPacked(keys, pubs.length));
        expect(Buffer.from(n.valid)).toEqual(Buffer.from(noble.valid));
        expect(Buffer.from(n.us)).toEqual(Buffer.from(noble.us));
        pubs.forEach((pub, i) => {
          const expected = referenceMontgomery(pub);
          expect(n.valid[i] ? n.us.slice(32 * i, 32 * i + 32) : null).toEqual(expected);
        });
      }),
      { numRuns: 25 },
    );
    const pubs = Array.from({ length: 500 }, () => new Uint8Array(randomBytes(32)));
    const keys = pack(pubs);
    const a = withBackend('native', () => edwardsToMontgomeryPacked(keys, pubs.length));
    const b = withBackend('openssl', () => edwardsToMontgomeryPacked(keys, pubs.length));
    expect(Buffer.from(a.us)).toEqual(Buffer.from(b.us));
    expect(Buffer.from(a.valid)).toEqual(Buffer.from(b.valid));
  });

  it('real keys agree with noble toMontgomery', () => {
    const pubs = Array.from({ length: 64 }, () => ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
    native(pubs).forEach((u, i) => expect(u).toEqual(ed25519.utils.toMontgomery(pubs[i]!)));
  });

  it('large batches on the worker threads (with invalid points) match the JS backend; started batches may overlap the next read', () => {
    const pubs = Array.from({ length: 9000 }, () => new Uint8Array(randomBytes(32)));
    const keys = pack(pubs);
    const expected = withBackend('noble', () => edwardsToMontgomeryPacked(keys, pubs.length));
    const whole = startNativeEdwardsToMontgomery(keys, pubs.length).finish();
    expect(Buffer.from(whole.valid)).toEqual(Buffer.from(expected.valid));
    expect(Buffer.from(whole.us)).toEqual(Buffer.from(expected.us));
    // A started batch has its own copy of the keys; a second one while it runs converts on this thread.
    const first = keys.slice(0, 32 * 4096);
    const started = startNativeEdwardsToMontgomery(first, 4096);
    first.fill(0);
    const second = startNativeEdwardsToMontgomery(keys.subarray(32 * 4096, 32 * 8192), 4096).finish();
    const firstResult = started.finish();
    expect(Buffer.from(firstResult.us)).toEqual(Buffer.from(expected.us.subarray(0, 32 * 4096)));
    expect(Buffer.from(second.us)).toEqual(Buffer.from(expected.us.subarray(32 * 4096, 32 * 8192)));
  });

  it('two line converters used in turn give what each gives alone', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => sshLine(ed25519.getPublicKey(new Uint8Array(32).fill(i % 251, 0, 1).fill(i >> 8, 1, 2)), `k${i}`));
    const alone = convertPublicKeyLines(lines.join('\n')).results;
    const a: LineResult[] = [];
    const b: LineResult[] = [];
    const ca = new PublicKeyLineConverter((r) => a.push(r));
    const cb = new PublicKeyLineConverter((r) => b.push(r));
    for (const line of lines) {
      ca.push(line);
      cb.push(line);
    }
    expect(ca.finish()).toBeUndefined();
    expect(cb.finish()).toBeUndefined();
    expect(a).toEqual(alone);
    expect(b).toEqual(alone);
  });

  it('an invalid point in a large input stops the conversion at its line, with nothing after it', () => {
    const pubs = Array.from({ length: 6000 }, (_, i) => ed25519.getPublicKey(new Uint8Array(32).fill(i & 0xff, 0, 1).fill(i >> 8, 1, 2)));
    const text = pubs.map((p, i) => sshLine(i === 4500 ? new Uint8Array(32).fill(0).fill(2, 0, 1) : p, `k${i}`)).join('\n');
    const r = convertPublicKeyLines(text);
    expect(r.error?.line).toBe(4501);
    expect(r.error?.error.code).toBe('INVALID_POINT');
    expect(r.results).toHaveLength(4500);
  });

  it('bounds its arguments: three Uint8Arrays, whole keys, at most 8192 keys, outputs long enough', () => {
    const { addon } = loadAddon<Addon>('keybridge_bignum');
    const a = addon!;
    expect(() => a.edwardsToMontgomery('x' as never, new Uint8Array(32), new Uint8Array(1))).toThrow(/three Uint8Arrays/);
    expect(() => a.edwardsToMontgomery(new Uint16Array(16) as never, new Uint8Array(32), new Uint8Array(1))).toThrow(/three Uint8Arrays/);
    expect(() => a.edwardsToMontgomery(new Uint8Array(33), new Uint8Array(64), new Uint8Array(2))).toThrow(/packed 32-byte keys/);
    expect(() => a.edwardsToMontgomery(new Uint8Array(32 * 8193), new Uint8Array(32 * 8193), new Uint8Array(8193))).toThrow(/at most 8192/);
    expect(() => a.edwardsToMontgomery(new Uint8Array(64), new Uint8Array(63), new Uint8Array(2))).toThrow(/too short/);
    expect(() => a.edwardsToMontgomery(new Uint8Array(64), new Uint8Array(64), new Uint8Array(1))).toThrow(/too short/);
    expect(a.edwardsToMontgomery(new Uint8Array(0), new Uint8Array(0), new Uint8Array(0))).toBe(0);
  });

  it('the CLI gives the same bytes with the addon switched off (KEYBRIDGE_NO_NATIVE_BIGNUM=1)', () => {
    const cli = join(ROOT, 'dist', 'ssh-to-age.cjs');
    expect(findAddon('keybridge_bignum', new URL('file://' + cli).href)).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'kb-native-'));
    try {
      const file = join(dir, 'authorized_keys');
      const lines = Array.from({ length: 4000 }, (_, i) => sshLine(ed25519.getPublicKey(new Uint8Array(32).fill(i & 0xff, 0, 1).fill(i >> 8, 2, 3)), `k${i}`));
      writeFileSync(file, lines.join('\n') + '\n');
      const on = spawnSync(process.execPath, [cli, '-i', file], { maxBuffer: 16 << 20 });
      const off = spawnSync(process.execPath, [cli, '-i', file], { maxBuffer: 16 << 20, env: { ...process.env, KEYBRIDGE_NO_NATIVE_BIGNUM: '1' } });
      expect(on.status).toBe(0);
      expect(off.status).toBe(0);
      expect(on.stdout.toString().split('\n')).toHaveLength(4001);
      expect(on.stdout.equals(off.stdout)).toBe(true);
      expect(on.stdout.toString().split('\n').slice(0, 3)).toEqual(convertPublicKeyLines(lines.slice(0, 3).join('\n')).results.map((r) => ('recipient' in r ? r.recipient : '')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
