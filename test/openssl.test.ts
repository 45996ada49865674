/**
 * The start paths' OpenSSL operations (src/openssl.ts): the native addon (native/openssl.c) and
 * the node:crypto fallback, each against known answers (RFC 7748, 5869, 4231, 8439, 8032, 5903)
 * and the rejections (hybrid, identity, off-curve and non-canonical P-256 points, low-order X25519
 * peers, tampered AEAD input), then against each other on random inputs, and the built commands:
 * with the addon the plugins' recipient-v1 / identity-v1 and ssh-to-age -private-key do not load
 * node:crypto, and KEYBRIDGE_NO_NATIVE_OPENSSL=1 gives the same answers through node:crypto.
 * Without the addon its tests are skipped loudly, or fail under KEYBRIDGE_REQUIRE_E2E=1 (CI).
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ECDH, createECDH, createHash, createHmac, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAddon } from '../src/nativeAddon.ts';
import { nodeCryptoBackend, type OpensslBackend } from '../src/openssl.ts';
import { noCardEnv, pluginRequests, runPlugin } from '../scripts/pluginRequests.ts';
import { ROOT, run } from './helpers/run.ts';
import { REQUIRE_E2E } from './helpers/tools.ts';

const { addon, reason } = loadAddon<OpensslBackend>('keybridge_openssl');

if (!addon && REQUIRE_E2E) {
  it('native OpenSSL addon is built', () => {
    throw new Error(`KEYBRIDGE_REQUIRE_E2E=1 but ${reason}`);
  });
} else if (!addon) process.stderr.write(`SKIP native OpenSSL addon: ${reason}\n`);

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('hex') : b);
const rand = (n: number) => new Uint8Array(randomBytes(n));

const P = 'ffffffff00000001000000000000000000000000ffffffffffffffffffffffff';
const pointOf = (scalar: Uint8Array) => {
  const e = createECDH('prime256v1');
  e.setPrivateKey(scalar);
  return { compressed: new Uint8Array(e.getPublicKey(null, 'compressed')), uncompressed: new Uint8Array(e.getPublicKey()) };
};
/** The smallest x ≥ 0 of a point of P-256, and its compressed encoding (x < 2^256 − p, so x + p is a 32-byte non-canonical encoding of it). */
const smallX = (() => {
  for (let x = 0; ; x++) {
    const enc = new Uint8Array(33);
    enc[0] = 2;
    enc[32] = x;
    try {
      return { x, enc: new Uint8Array(ECDH.convertKey(enc, 'prime256v1', undefined, undefined, 'compressed') as Buffer) };
    } catch {
      // not an x-coordinate of the curve
    }
  }
})();

const backends: [string, OpensslBackend | undefined][] = [
  ['native addon', addon],
  ['node:crypto fallback', nodeCryptoBackend],
];

for (const [name, b] of backends) {
  describe.skipIf(!b)(`${name}${b ? '' : ` [skipped: ${reason}]`}`, () => {
    const o = b!;

    it('hashes, HMAC and HKDF give the RFC answers', () => {
      expect(toHex(o.sha256(new TextEncoder().encode('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      expect(toHex(o.sha512(new TextEncoder().encode('abc')))).toBe(
        'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
      );
      expect(toHex(o.sha256(new Uint8Array(0)))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      // RFC 4231 test case 2
      expect(toHex(o.hmacSha256(new TextEncoder().encode('Jefe'), new TextEncoder().encode('what do ya want for nothing?')))).toBe(
        '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      );
      // RFC 5869 test case 1
      const ikm = new Uint8Array(22).fill(0x0b);
      const salt = hex('000102030405060708090a0b0c');
      const info = hex('f0f1f2f3f4f5f6f7f8f9');
      expect(toHex(o.hkdfExtractSha256(salt, ikm))).toBe('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
      expect(toHex(o.hkdfSha256(ikm, salt, info, 42))).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
      // RFC 5869 test case 3: empty salt and info
      expect(toHex(o.hkdfSha256(ikm, new Uint8Array(0), new Uint8Array(0), 42))).toBe(
        '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
      );
    });

    it('ChaCha20-Poly1305 gives the RFC 8439 §2.8.2 answer and refuses tampered input', () => {
      const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
      const nonce = hex('070000004041424344454647');
      const aad = hex('50515253c0c1c2c3c4c5c6c7');
      const text = new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
      const sealed = o.chacha20Poly1305Seal(key, nonce, text, aad);
      expect(toHex(sealed)).toBe(
        'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116' +
          '1ae10b594f09e26a7e902ecbd0600691',
      );
      expect(toHex(o.chacha20Poly1305Open(key, nonce, sealed, aad))).toBe(toHex(text));
      for (const i of [0, text.length, sealed.length - 1]) {
        const bad = sealed.slice();
        bad[i]! ^= 1;
        expect(o.chacha20Poly1305Open(key, nonce, bad, aad), `byte ${i} flipped`).toBeNull();
      }
      expect(o.chacha20Poly1305Open(key, nonce, sealed)).toBeNull(); // the AAD left out
      expect(o.chacha20Poly1305Open(key, nonce, sealed.subarray(0, 15), aad)).toBeNull();
      expect(o.chacha20Poly1305Open(rand(32), nonce, sealed, aad)).toBeNull();
      // the age wrap shape: no AAD, all-zero nonce, 16-byte file key; an empty plaintext is its tag alone
      const k = rand(32);
      const fileKey = rand(16);
      const body = o.chacha20Poly1305Seal(k, new Uint8Array(12), fileKey);
      expect(body.length).toBe(32);
      expect(toHex(o.chacha20Poly1305Open(k, new Uint8Array(12), body))).toBe(toHex(fileKey));
      expect(toHex(o.chacha20Poly1305Open(k, nonce, o.chacha20Poly1305Seal(k, nonce, new Uint8Array(0))))).toBe('');
      expect(() => o.chacha20Poly1305Seal(rand(31), nonce, fileKey)).toThrow(RangeError);
      expect(() => o.chacha20Poly1305Seal(k, rand(8), fileKey)).toThrow(RangeError);
    });

    it('X25519 gives the RFC 7748 answers and refuses low-order peers', () => {
      // §5.2, first vector
      const s = hex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4');
      const u = hex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c');
      expect(toHex(o.x25519(u, s)?.shared)).toBe('c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552');
      // §6.1
      const alice = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
      const bob = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
      const alicePub = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
      const bobPub = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
      const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
      expect(toHex(o.x25519PublicKey(alice))).toBe(alicePub);
      expect(o.x25519(hex(bobPub), alice)).toEqual({ publicKey: hex(alicePub), shared: hex(shared) });
      expect(o.x25519(hex(alicePub), bob)).toEqual({ publicKey: hex(bobPub), shared: hex(shared) });
      // a fresh key: the peer (node:crypto's key pair) computes the same secret
      const peer = generateKeyPairSync('x25519');
      const peerPub = hex(Buffer.from(peer.publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex'));
      const r = o.x25519(peerPub)!;
      const theirs = diffieHellman({ privateKey: peer.privateKey, publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(r.publicKey).toString('base64url') }, format: 'jwk' }) });
      expect(toHex(r.shared)).toBe(theirs.toString('hex'));
      expect(toHex(o.x25519(peerPub)!.publicKey)).not.toBe(toHex(r.publicKey));
      // low-order points (RFC 7748 §6.1 "check for all-zero output"): 0, 1, a point of order 8, and p (≡ 0)
      for (const low of [
        new Uint8Array(32),
        hex('0100000000000000000000000000000000000000000000000000000000000000'),
        hex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'),
        hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'),
      ]) {
        expect(o.x25519(low), toHex(low)!).toBeNull();
        expect(o.x25519(low, alice), toHex(low)!).toBeNull();
      }
      expect(() => o.x25519(rand(31))).toThrow(RangeError);
    });

    it('Ed25519 public keys of RFC 8032 §7.1 seeds', () => {
      expect(toHex(o.ed25519PublicKey(hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')))).toBe(
        'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      );
      expect(toHex(o.ed25519PublicKey(hex('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb')))).toBe(
        '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
      );
      expect(() => o.ed25519PublicKey(rand(31))).toThrow(RangeError);
    });

    it('P-256 points: both forms of a point, and the rejections', () => {
      const { compressed, uncompressed } = pointOf(rand(32));
      expect(toHex(o.p256Convert(uncompressed, true))).toBe(toHex(compressed));
      expect(toHex(o.p256Convert(compressed, false))).toBe(toHex(uncompressed));
      expect(toHex(o.p256Convert(compressed, true))).toBe(toHex(compressed));
      // the hybrid form 06/07 ‖ X ‖ Y of the same point (parity as in its prefix) is not taken
      const hybrid = uncompressed.slice();
      hybrid[0] = 6 + (uncompressed[64]! & 1);
      expect(o.p256Convert(hybrid, true)).toBeNull();
      hybrid[0] ^= 1;
      expect(o.p256Convert(hybrid, true)).toBeNull();
      // the identity (SEC1's single 00 byte, and zero coordinates), other lengths and prefixes
      expect(o.p256Convert(Uint8Array.of(0), true)).toBeNull();
      expect(o.p256Convert(Uint8Array.of(4, ...new Uint8Array(64)), true)).toBeNull();
      expect(o.p256Convert(uncompressed.subarray(0, 64), true)).toBeNull();
      expect(o.p256Convert(Uint8Array.of(4, ...compressed.subarray(1)), true)).toBeNull();
      expect(o.p256Convert(Uint8Array.of(5, ...uncompressed.subarray(1)), true)).toBeNull();
      expect(o.p256Convert(new Uint8Array(0), true)).toBeNull();
      // off the curve: Y changed
      const off = uncompressed.slice();
      off[64]! ^= 1;
      expect(o.p256Convert(off, true)).toBeNull();
      // coordinates ≥ p: x = p, and x + p for a point's small x (the same point mod p, not canonical)
      expect(o.p256Convert(Uint8Array.of(2, ...hex(P)), true)).toBeNull();
      const xp = (BigInt(`0x${P}`) + BigInt(smallX.x)).toString(16).padStart(64, '0');
      expect(o.p256Convert(Uint8Array.of(smallX.enc[0]!, ...hex(xp)), true)).toBeNull();
      expect(o.p256Convert(smallX.enc, true)).not.toBeNull();
      // y + p in the uncompressed form
      const big = pointOf(rand(32)).uncompressed;
      const yp = BigInt(`0x${toHex(big.subarray(33))}`) + BigInt(`0x${P}`);
      if (yp < 1n << 256n) expect(o.p256Convert(Uint8Array.of(4, ...big.subarray(1, 33), ...hex(yp.toString(16).padStart(64, '0'))), true)).toBeNull();
    });

    it('P-256 ECDH gives the RFC 5903 §8.1 answer, agrees with the peer, and refuses non-points', () => {
      const i = hex('C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433');
      const gi = '04' + 'DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180' + '5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3';
      const gr = '04' + 'D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63' + '56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB';
      const girx = 'D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE';
      const r = o.p256Ecdh(hex(gr), false, i)!;
      expect(toHex(r.publicKey)).toBe(gi.toLowerCase());
      expect(toHex(r.shared)).toBe(girx.toLowerCase());
      // the same towards the compressed peer, answering compressed
      const rc = o.p256Ecdh(o.p256Convert(hex(gr), true)!, true, i)!;
      expect(toHex(rc.publicKey)).toBe(toHex(o.p256Convert(hex(gi), true)));
      expect(toHex(rc.shared)).toBe(girx.toLowerCase());
      // a fresh key: the peer computes the same secret
      const peer = createECDH('prime256v1');
      peer.generateKeys();
      for (const compressed of [true, false]) {
        const e = o.p256Ecdh(new Uint8Array(peer.getPublicKey(null, compressed ? 'uncompressed' : 'compressed')), compressed)!;
        expect(e.publicKey.length).toBe(compressed ? 33 : 65);
        expect(toHex(e.shared)).toBe(peer.computeSecret(e.publicKey).toString('hex'));
      }
      const u = new Uint8Array(peer.getPublicKey());
      const hybrid = u.slice();
      hybrid[0] = 6 + (u[64]! & 1);
      const off = u.slice();
      off[64]! ^= 1;
      for (const bad of [hybrid, off, Uint8Array.of(0), Uint8Array.of(4, ...new Uint8Array(64)), Uint8Array.of(2, ...hex(P)), u.subarray(0, 33)]) {
        expect(o.p256Ecdh(bad, true), toHex(bad)!).toBeNull();
      }
      // a scalar of 0 or ≥ n is not a key
      expect(() => o.p256Ecdh(u, true, new Uint8Array(32))).toThrow();
      expect(() => o.p256Ecdh(u, true, new Uint8Array(32).fill(0xff))).toThrow();
      expect(() => o.p256Ecdh(u, true, rand(31))).toThrow();
    });
  });
}

describe.skipIf(!addon)(`native addon against node:crypto${addon ? '' : ` [skipped: ${reason}]`}`, () => {
  const n = addon!;
  const f = nodeCryptoBackend;
  it('gives the same answers on random inputs', () => {
    for (let round = 0; round < 50; round++) {
      const len = round * 37;
      const data = rand(len);
      const key = rand(32);
      const nonce = rand(12);
      const aad = rand(round % 20);
      expect(toHex(n.sha256(data))).toBe(createHash('sha256').update(data).digest('hex'));
      expect(toHex(n.sha512(data))).toBe(toHex(f.sha512(data)));
      expect(toHex(n.hmacSha256(data, key))).toBe(createHmac('sha256', data).update(key).digest('hex'));
      expect(toHex(n.hkdfExtractSha256(data, key))).toBe(toHex(f.hkdfExtractSha256(data, key)));
      const length = 1 + ((round * 97) % 200);
      expect(toHex(n.hkdfSha256(data, key, aad, length))).toBe(Buffer.from(hkdfSync('sha256', data, key, aad, length)).toString('hex'));
      const sealed = n.chacha20Poly1305Seal(key, nonce, data, aad);
      expect(toHex(sealed)).toBe(toHex(f.chacha20Poly1305Seal(key, nonce, data, aad)));
      expect(toHex(f.chacha20Poly1305Open(key, nonce, sealed, aad))).toBe(toHex(data));
      const scalar = rand(32);
      expect(toHex(n.x25519PublicKey(scalar))).toBe(toHex(f.x25519PublicKey(scalar)));
      expect(toHex(n.ed25519PublicKey(scalar))).toBe(toHex(f.ed25519PublicKey(scalar)));
      const peer = rand(32);
      expect(n.x25519(peer, scalar)).toEqual(f.x25519(peer, scalar));
      const p = pointOf(rand(32));
      const s = rand(32);
      for (const c of [true, false]) {
        expect(n.p256Convert(p.compressed, c)).toEqual(f.p256Convert(p.compressed, c));
        expect(n.p256Ecdh(p.uncompressed, c, s)).toEqual(f.p256Ecdh(p.uncompressed, c, s));
      }
      // random 33 and 65 bytes: mostly not points; both agree
      const junk = Uint8Array.of(2 + (round % 3), ...rand(round % 2 ? 32 : 64));
      expect(n.p256Convert(junk, true)).toEqual(f.p256Convert(junk, true));
    }
  });

  it('rejects wrong argument types', () => {
    expect(() => n.sha256('abc' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => n.hkdfSha256(rand(32), rand(32), rand(1), 8161)).toThrow(RangeError);
    expect(() => n.hkdfSha256(rand(32), rand(32), rand(1025), 32)).toThrow(RangeError);
    expect(() => n.p256Convert(rand(33), 'yes' as unknown as boolean)).toThrow(TypeError);
  });
});

describe.skipIf(!addon)(`readFile, how the plugins' loaders read their code caches${addon ? '' : ` [skipped: ${reason}]`}`, () => {
  const readFile = (addon as unknown as { readFile(path: string, maxBytes: number): Uint8Array | null }).readFile;
  it('reads a regular file whole, through a symlink too; null when missing, not a regular file or larger than asked', () => {
    const d = mkdtempSync(join(tmpdir(), 'kb-readfile-'));
    try {
      const data = rand(300_000);
      writeFileSync(join(d, 'f'), data);
      writeFileSync(join(d, 'empty'), '');
      symlinkSync(join(d, 'f'), join(d, 'link'));
      expect(toHex(readFile(join(d, 'f'), 1 << 20))).toBe(toHex(data));
      expect(toHex(readFile(join(d, 'link'), 1 << 20))).toBe(toHex(data));
      expect(readFile(join(d, 'empty'), 10)).toEqual(new Uint8Array(0));
      expect(readFile(join(d, 'f'), data.length)).not.toBeNull();
      expect(readFile(join(d, 'f'), data.length - 1)).toBeNull();
      expect(readFile(join(d, 'missing'), 1 << 20)).toBeNull();
      expect(readFile(d, 1 << 20)).toBeNull();
      expect(readFile('/dev/null', 1 << 20)).toBeNull();
      expect(readFile('', 10)).toBeNull();
      expect(readFile(`${join(d, 'f')}\0x`, 1 << 20)).toBeNull();
      expect(() => readFile(1 as unknown as string, 10)).toThrow(TypeError);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('the backend in use', () => {
  afterAll(() => {
    delete process.env.KEYBRIDGE_NO_NATIVE_OPENSSL;
    vi.resetModules();
  });
  it('is the addon when built, node:crypto when KEYBRIDGE_NO_NATIVE_OPENSSL=1', async () => {
    vi.resetModules();
    process.env.KEYBRIDGE_NO_NATIVE_OPENSSL = '1';
    const off = await import('../src/openssl.ts');
    expect(off.nativeOpensslUnavailableReason()).toMatch(/KEYBRIDGE_NO_NATIVE_OPENSSL=1/);
    expect(off.openssl()).toBe(off.nodeCryptoBackend);
    if (!addon) return;
    vi.resetModules();
    delete process.env.KEYBRIDGE_NO_NATIVE_OPENSSL;
    const on = await import('../src/openssl.ts');
    expect(on.nativeOpensslUnavailableReason()).toBeUndefined();
    expect(on.openssl()).not.toBe(on.nodeCryptoBackend);
    expect(typeof on.openssl().p256Ecdh).toBe('function');
  });
});

/** The built commands, with a preload that records node's loaded modules at exit. */
describe.skipIf(!addon)(`built start paths without node:crypto${addon ? '' : ` [skipped: ${reason}]`}`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kb-openssl-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const hook = join(dir, 'modules.cjs');
  writeFileSync(hook, "process.on('exit', () => require('fs').writeFileSync(process.env.KB_MODULES_OUT, process.moduleLoadList.join('\\n')));");
  const requests = await pluginRequests();
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  let n = 0;
  const traced = (native: boolean) => {
    const out = join(dir, `modules-${n++}`);
    const env: NodeJS.ProcessEnv = { ...noCardEnv(dir), NODE_OPTIONS: `-r ${hook}`, KB_MODULES_OUT: out };
    delete env.NODE_EXTRA_CA_CERTS;
    if (!native) env.KEYBRIDGE_NO_NATIVE_OPENSSL = '1';
    else delete env.KEYBRIDGE_NO_NATIVE_OPENSSL;
    return { env, loadsCrypto: () => readFileSync(out, 'utf8').split('\n').includes('NativeModule crypto') };
  };
  const shape = (s: string) => s.replace(/^(-> recipient-stanza 0 \S+)( \S+)*\n[A-Za-z0-9+/\n]+/gm, '$1');

  it.each([
    ['yubikey', 'recipient-v1'],
    ['yubikey', 'identity-v1'],
    ['picohsm', 'recipient-v1'],
    ['picohsm', 'identity-v1'],
    ['fido2-hmac', 'recipient-v1'],
  ])('age-plugin-%s %s', async (family, kind) => {
    const p = requests.find((r) => r.name === family)!;
    const answer = async (native: boolean) => {
      const t = traced(native);
      const r = await runPlugin([join(ROOT, pkg.bin[`age-plugin-${family}`]!), `--age-plugin=${kind}`], kind === 'recipient-v1' ? p.recipientV1 : p.identityV1, t.env);
      return { answer: [r.status, shape(r.stdout), r.stderr], crypto: t.loadsCrypto() };
    };
    const native = await answer(true);
    const fallback = await answer(false);
    expect(native.answer[0]).toBe(0);
    expect(native.answer[1]).toMatch(kind === 'recipient-v1' ? p.recipientReply : /^-> /);
    expect(native.answer).toEqual(fallback.answer);
    expect(native.crypto).toBe(false);
    expect(fallback.crypto).toBe(true);
  });

  it('ssh-to-age -private-key', async () => {
    const key = join(ROOT, 'test', 'fixtures', 'ssh-to-age', 'id_ed25519');
    const answer = async (native: boolean) => {
      const t = traced(native);
      const r = await run(process.execPath, [join(ROOT, pkg.bin['ssh-to-age']!), '-private-key', '-i', key], { env: t.env });
      return { answer: [r.code, r.stdout, r.stderr], crypto: t.loadsCrypto() };
    };
    const native = await answer(true);
    expect(native.answer[1]).toMatch(/^AGE-SECRET-KEY-1/);
    const fallback = await answer(false);
    expect(native.answer).toEqual(fallback.answer);
    expect(native.crypto).toBe(false);
    expect(fallback.crypto).toBe(true);
  });
});
