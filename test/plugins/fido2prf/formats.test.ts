/**
 * fido2prf formats: the computed known-answer vector, identity encoding against typage's own
 * code, and files encrypted by typage's WebAuthnRecipient / decrypted by its WebAuthnIdentity
 * where the PRF results come from the virtual authenticator's hmac-secret (WebAuthn PRF mapped
 * onto CTAP the way browsers do it: salt = SHA-256("WebAuthn PRF" ‖ 0 ‖ input)).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decrypter, Encrypter, webauthn } from 'age-encryption';
import { base64nopad } from '@scure/base';
import {
  STANZA_TYPE,
  decodeIdentity,
  deriveKey,
  encodeIdentity,
  hmacSalts,
  identityString,
  parseIdentityString,
  parseStanzaNonce,
  unwrap,
  wrap,
} from '../../../src/plugins/fido2prf/format.ts';
import { CtapHidDevice } from '../../../src/transport/ctaphid.ts';
import { Ctap2Session, PERMISSION } from '../../../src/tokens/ctap2/session.ts';
import { startVirtualFido2, type VirtualFido2 } from '../../../src/sim/fido2/server.ts';
import { headerStanzas } from '../../helpers/ageFile.ts';
import { installWebAuthn } from '../../helpers/webauthn.ts';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const PIN = '2468';

describe('fido2prf known-answer vector (fido2-formats-update.md §5)', () => {
  it('salts, key and body', () => {
    const nonce = Uint8Array.from({ length: 16 }, (_, i) => i);
    expect(base64nopad.encode(nonce)).toBe('AAECAwQFBgcICQoLDA0ODw');
    const [s1, s2] = hmacSalts(nonce);
    expect(hex(s1)).toBe('30d459fe93cd3bb37a644100afce12a62edab9631bfbf068ae74494c25147386');
    expect(hex(s2)).toBe('739818022bfd155abdfc1bde99abeb10c21d2fc2d98d4908f077a64f431abdb1');
    const key = deriveKey(new Uint8Array(32).fill(0x11), new Uint8Array(32).fill(0x22));
    expect(hex(key)).toBe('8258331d877c7e394e25e3efaf203f8507bbfe16ff5b72064cd2a5bf3cdaaeeb');
    const body = chacha20poly1305(key, new Uint8Array(12)).encrypt(nonce);
    expect(hex(body)).toBe('96e8e49800e2267d4e8ffd782ab35035f6868adbb36f424e68ba10f3ca7812dc');
    expect(unwrap(body, new Uint8Array(32).fill(0x11), new Uint8Array(32).fill(0x22))).toEqual(nonce);
    expect(unwrap(body, new Uint8Array(32).fill(0x11), new Uint8Array(32).fill(0x23))).toBeNull();
  });

  it('identity CBOR sequence: strict parsing (version, trailing bytes, long arguments)', () => {
    const id = { credentialId: new Uint8Array(300).fill(5), rpId: 'example.com', transports: ['usb'] };
    const b = encodeIdentity(id);
    expect(hex(b.subarray(0, 4))).toBe('0159012c');
    expect(hex(b.subarray(-5))).toBe('8163757362');
    expect(decodeIdentity(b)).toEqual(id);
    expect(() => decodeIdentity(new Uint8Array([...b, 0]))).toThrow('malformed fido2prf identity: trailing data');
    expect(() => decodeIdentity(new Uint8Array([2, ...b.subarray(1)]))).toThrow('unsupported fido2prf version 2');
    expect(() => decodeIdentity(new Uint8Array([1, 0x5a, 0, 0, 0, 1, 0]))).toThrow(/unsupported CBOR argument/);
    expect(() => decodeIdentity(b.subarray(0, 20))).toThrow(/unexpected end/);
    expect(() => parseStanzaNonce(['AAECAwQFBgcICQoLDA0ODw', 'x'])).toThrow('fido2prf: invalid stanza: expected 1 argument');
    expect(() => parseStanzaNonce(['AAECAwQFBgcICQoLDA0O'])).toThrow('fido2prf: invalid nonce');
  });
});

describe('interop with typage’s fido2prf code over the virtual authenticator', () => {
  let v: VirtualFido2;
  let session: Ctap2Session;
  let uninstall: () => void;

  beforeAll(async () => {
    v = await startVirtualFido2();
    session = await Ctap2Session.open(await CtapHidDevice.open(v.device()));
    await session.setPin(PIN);
    uninstall = installWebAuthn(session, PIN);
  });

  afterAll(async () => {
    uninstall();
    await session.close();
    await v.stop();
  });

  /** Our side of the key: the two hmac-secret outputs with UV, as the plugin gets them. */
  async function outputs(credentialId: Uint8Array, rpId: string, salts: [Uint8Array, Uint8Array]): Promise<[Uint8Array, Uint8Array]> {
    const token = await session.getPinToken(PIN, PERMISSION.GET_ASSERTION, rpId);
    const a = await session.getAssertion({ rpId, allowList: [credentialId], hmacSalts: salts, pinToken: token });
    return [a.hmacOutputs![0]!, a.hmacOutputs![1]!];
  }

  it('an identity made by typage’s createCredential parses and re-encodes here; a file typage encrypts to it decrypts here', async () => {
    const typageId = await webauthn.createCredential({ keyName: 'test', type: 'security-key', rpId: 'example.com' });
    expect(typageId.startsWith('AGE-PLUGIN-FIDO2PRF-1')).toBe(true);
    const parsed = parseIdentityString(typageId);
    expect(parsed.rpId).toBe('example.com');
    expect(parsed.transports).toEqual(['usb']);
    expect(identityString(parsed)).toBe(typageId);
    // typage encrypts to it; we decrypt with the same credential through Ctap2Session.
    const e = new Encrypter();
    e.addRecipient(new webauthn.WebAuthnRecipient({ identity: typageId }));
    const file = await e.encrypt('made by typage');
    const [st] = await headerStanzas(file);
    expect(st!.type).toBe(STANZA_TYPE);
    const nonce = parseStanzaNonce(st!.args.slice());
    const [o1, o2] = await outputs(parsed.credentialId, parsed.rpId, hmacSalts(nonce));
    const fileKey = unwrap(st!.body, o1, o2);
    expect(fileKey).not.toBeNull();
    // Prove the file key is the file's: decrypt the payload with it through typage itself.
    const d = new Decrypter();
    d.addIdentity({ unwrapFileKey: () => fileKey });
    expect(await d.decrypt(file, 'text')).toBe('made by typage');
  });

  it('a file we encrypt decrypts with typage’s WebAuthnIdentity reading our identity string', async () => {
    const typageId = await webauthn.createCredential({ keyName: 'k2', type: 'security-key', rpId: 'age.example' });
    const id = parseIdentityString(typageId);
    const fileKeyHolder: { key?: Uint8Array } = {};
    const e = new Encrypter();
    e.addRecipient({
      async wrapFileKey(fileKey: Uint8Array) {
        fileKeyHolder.key = fileKey;
        const st = await wrap(fileKey, (salts) => outputs(id.credentialId, id.rpId, salts));
        return [new (await import('age-encryption')).Stanza([st.type, ...st.args], st.body)];
      },
    });
    const file = await e.encrypt('made by keybridge');
    const d = new Decrypter();
    d.addIdentity(new webauthn.WebAuthnIdentity({ identity: identityString(id) }));
    expect(await d.decrypt(file, 'text')).toBe('made by keybridge');
  });
});
