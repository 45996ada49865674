/**
 * What a browser does for typage's WebAuthn fido2prf on a security key, over a Ctap2Session:
 * `navigator.credentials.create` → makeCredential with hmac-secret and UV (the PIN),
 * `navigator.credentials.get` with PRF → getAssertion with the salts
 * SHA-256("WebAuthn PRF" ‖ 0 ‖ input) and UV. Installed on `globalThis.navigator` (there is no
 * browser here); returns the function that removes it.
 */
import { prfSalt } from '../../src/plugins/fido2prf/format.ts';
import { PERMISSION, type Ctap2Session } from '../../src/tokens/ctap2/session.ts';

interface CreateOptions {
  rp: { id?: string };
  user: { id: Uint8Array | ArrayBuffer; name: string };
}
interface GetOptions {
  rpId?: string;
  allowCredentials?: { id: Uint8Array | ArrayBuffer }[];
  extensions: { prf: { eval: { first: Uint8Array; second: Uint8Array } } };
}

const bytes = (x: Uint8Array | ArrayBuffer) => (x instanceof Uint8Array ? x : new Uint8Array(x));

export function installWebAuthn(session: Ctap2Session, pin: string): () => void {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  const credentials = {
    async create({ publicKey }: { publicKey: CreateOptions }) {
      const rpId = publicKey.rp.id!;
      const c = await session.makeCredential({ rpId, userId: bytes(publicKey.user.id), userName: publicKey.user.name, hmacSecret: true, pinToken: await session.getPinToken(pin, PERMISSION.MAKE_CREDENTIAL, rpId) });
      return { rawId: c.credentialId.slice().buffer, response: { getTransports: () => ['usb'] }, getClientExtensionResults: () => ({ prf: { enabled: c.hmacSecret } }) };
    },
    async get({ publicKey }: { publicKey: GetOptions }) {
      const { first, second } = publicKey.extensions.prf.eval;
      const a = await session.getAssertion({
        rpId: publicKey.rpId!,
        allowList: (publicKey.allowCredentials ?? []).map((c) => bytes(c.id)),
        hmacSalts: [prfSalt(first), prfSalt(second)],
        pinToken: await session.getPinToken(pin, PERMISSION.GET_ASSERTION, publicKey.rpId),
      });
      return { getClientExtensionResults: () => ({ prf: { results: { first: a.hmacOutputs![0]!, second: a.hmacOutputs![1]! } } }) };
    },
  };
  Object.defineProperty(globalThis, 'navigator', { value: { credentials }, configurable: true, writable: true });
  return () => {
    if (saved) Object.defineProperty(globalThis, 'navigator', saved);
    else delete (globalThis as { navigator?: unknown }).navigator;
  };
}
