import { describe, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { p256 } from '@noble/curves/nist.js';
import { base64nopad, hex } from '@scure/base';
import { randomBytes } from 'node:crypto';
import { parsePivP256, unwrapPivP256, wrapPivP256 } from '../../../src/plugins/yubikey/pivP256.ts';
import { findTool, itWith } from '../../helpers/tools.ts';

const script = fileURLToPath(new URL('../../helpers/piv_p256.py', import.meta.url));
const py = (...args: string[]) => execFileSync('python3', [script, ...args]).toString().trim();

describe('piv-p256 against an independent Python (pyca/cryptography) implementation', () => {
  itWith([findTool('python3')])('Python-made stanzas open with keybridge, keybridge stanzas open in Python', async () => {
    for (let i = 0; i < 5; i++) {
      const sk = p256.utils.randomSecretKey();
      const pk = p256.getPublicKey(sk, true);
      const fileKey = new Uint8Array(randomBytes(16));
      const [tag, epk, body] = py('wrap', hex.encode(pk), hex.encode(fileKey)).split(' ');
      const parsed = parsePivP256({ type: 'piv-p256', args: [tag!, epk!], body: base64nopad.decode(body!) });
      expect(parsed).not.toBeNull();
      const opened = await unwrapPivP256(parsed!, pk, async (peer) => p256.getSharedSecret(sk, peer, true).subarray(1));
      expect(hex.encode(opened)).toBe(hex.encode(fileKey));

      const ours = wrapPivP256(fileKey, pk);
      expect(py('unwrap', hex.encode(sk), ours.args[0]!, ours.args[1]!, base64nopad.encode(ours.body))).toBe(hex.encode(fileKey));
    }
  });
});
