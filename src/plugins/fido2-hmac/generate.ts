/**
 * Creating a fido2-hmac credential, the way `age-plugin-fido2-hmac -g` (v0.4.0) does it: wait for
 * a key, its PIN if it has one, a touch for makeCredential (ES256 unless `-a` chose EdDSA or RS256, non-resident, hmac-secret, RP
 * `age-encryption.org`, random user id), "require a PIN for decryption?", then — unless
 * symmetric — a 32-byte salt and a touch for the hmac-secret that becomes the X25519 key, and
 * "separate identity?". Used by the -g command and by `age -e -j fido2-hmac` (a new credential
 * made on the fly).
 */
import { randomBytes } from '@noble/hashes/utils.js';
import { base64nopad } from '@scure/base';
import { x25519RecipientString } from '../../age/x25519.ts';
import { pinTarget, type Authenticator, type AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { keyBlock } from '../kit/identityFile.ts';
import { verifyPin } from '../kit/pin.ts';
import { Ctap2Error } from '../../tokens/ctap2/errors.ts';
import type { PinToken } from '../../tokens/ctap2/session.ts';
import { PERMISSION } from '../../tokens/ctap2/status.ts';
import { encodeHybridRecipient } from '../../age/pqKeys.ts';
import { PLUGIN_NAME, RP_ID, identityString, recipientString, recipientV2, recipientV3, type Fido2HmacIdentity, type Fido2HmacRecipient } from './format.ts';
import { T, TEXTS } from './texts.ts';

export interface GenerateUi {
  message(text: string): Promise<void>;
  requestSecret(prompt: string): Promise<string>;
  /** Yes/no question; true for yes. */
  confirm(question: string): Promise<boolean>;
  /** Picks one of several keys (1-based); undefined when it cannot ask. */
  choose?(question: string, options: readonly string[]): Promise<number>;
}

export interface Generated {
  readonly recipient: Fido2HmacRecipient;
  /** Set when the user chose a separate identity. */
  readonly identity?: Exclude<Fido2HmacIdentity, { version: 'dataless' }>;
  /** What to publish: `age1…` for a separate v2 identity, else the fido2-hmac recipient. */
  readonly publicKey: string;
  readonly identityString?: string;
  readonly keyName: string;
}

const WAIT_FOR_KEY_MS = 50_000;

export async function waitForKey(keys: AuthenticatorSet, ui: GenerateUi, signal?: AbortSignal): Promise<Authenticator> {
  const until = Date.now() + WAIT_FOR_KEY_MS;
  let list = await keys.list();
  while (list.length === 0) {
    if (Date.now() > until || signal?.aborted) {
      const why = [...keys.problems.values()];
      throw new Ctap2Error('DEVICE', why.length ? `${T.noKey} (${why.join('; ')})` : T.noKey);
    }
    await new Promise((r) => setTimeout(r, 200));
    list = await keys.list();
  }
  if (list.length === 1 || !ui.choose) return list[0]!;
  const n = await ui.choose(T.chooseKey(list.length), list.map((a) => a.name));
  return list[n - 1] ?? list[0]!;
}

export interface GenerateOptions {
  symmetric?: boolean;
  /** The credential's COSE algorithm (`-a`; default ES256). */
  alg?: number;
  /**
   * Post-quantum (`-p`, upstream main after 0.4.0): a v3 recipient (the MLKEM768X25519 key the
   * hmac-secret seeds), or for a separate identity its `age1pq1…` recipient. No effect with
   * `symmetric` (v1 stanzas are symmetric ChaCha20-Poly1305 already).
   */
  pq?: boolean;
  signal?: AbortSignal;
}

export async function generate(keys: AuthenticatorSet, ui: GenerateUi, options: GenerateOptions = {}): Promise<Generated> {
  await ui.message(T.insertToken);
  const a = await waitForKey(keys, ui, options.signal);
  const hasPin = a.session.pinSet;
  let pin: string | undefined;
  let mcToken: PinToken | undefined;
  if (hasPin) {
    // The kit's PIN loop (retries shown, the last try kept); the right PIN is kept for the assertion below.
    const target = pinTarget(a, RP_ID, PERMISSION.MAKE_CREDENTIAL);
    await verifyPin(target, {
      family: PLUGIN_NAME,
      device: { key: a.info.path, label: a.name },
      texts: { ...TEXTS, pinPrompt: () => T.generatePinPrompt },
      sources: [{ interactive: true, pin: async (req) => (pin = await ui.requestSecret(req.prompt)) }],
    });
    mcToken = target.token();
  }
  await ui.message(T.touch);
  const cred = await a.session.makeCredential({
    rpId: RP_ID,
    userId: randomBytes(32),
    userName: base64nopad.encode(randomBytes(6)),
    hmacSecret: true,
    ...(options.alg !== undefined ? { alg: options.alg } : {}),
    ...(mcToken ? { pinToken: mcToken } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!cred.hmacSecret) throw new Ctap2Error('UNSUPPORTED', `${a.name} did not enable hmac-secret for the new credential`);
  const requirePin = hasPin ? await ui.confirm(T.requirePinQuestion) : false;
  const credentialId = cred.credentialId;
  let recipient: Fido2HmacRecipient;
  let identity: Exclude<Fido2HmacIdentity, { version: 'dataless' }>;
  if (options.symmetric) {
    recipient = { version: 1, requirePin, credentialId };
    identity = { version: 1, requirePin, credentialId };
  } else {
    const salt = randomBytes(32);
    await ui.message(T.touch);
    const gaToken = requirePin && pin !== undefined ? await a.session.getPinToken(pin, PERMISSION.GET_ASSERTION, RP_ID) : undefined;
    const r = await a.session.getAssertion({
      rpId: RP_ID,
      allowList: [credentialId],
      hmacSalts: [salt],
      ...(gaToken ? { pinToken: gaToken } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const secret = r.hmacOutputs![0]!;
    recipient = options.pq ? recipientV3(secret, requirePin, salt, credentialId) : recipientV2(secret, requirePin, salt, credentialId);
    secret.fill(0);
    identity = { version: 2, requirePin, salt, credentialId };
  }
  pin = undefined;
  const separate = await ui.confirm(T.separateIdentityQuestion);
  if (!separate) return { recipient, publicKey: recipientString(recipient), keyName: a.name };
  const publicKey = recipient.version === 2 ? x25519RecipientString(recipient.publicKey) : recipient.version === 3 ? encodeHybridRecipient(recipient.publicKey) : recipientString(recipient);
  return { recipient, identity, publicKey, identityString: identityString(identity), keyName: a.name };
}

/** The identity file (or the data-less hint) exactly as v0.4.0 prints it. */
export function generatedText(g: Generated): string {
  if (g.identityString) return keyBlock([['public key', g.publicKey]], g.identityString, { align: 'none' });
  return `${T.datalessHint}\n# public key: ${g.publicKey}\n\n`;
}
