/**
 * `age-plugin-fido2prf -generate RPID`, as typage's Go plugin does it: exactly one key plugged
 * in, its PIN, then a non-resident ES256 credential with hmac-secret and user verification for
 * the RP (client data hash 32 zero bytes, user `{id: 0x00, name: "age-encryption.org/fido2prf"}`);
 * the identity records the credential id, the RP id and the transport `usb`.
 */
import { pinTarget, type AuthenticatorSet } from '../../tokens/ctap2/authenticators.ts';
import { verifyPin } from '../kit/pin.ts';
import type { PinSource } from '../kit/pinSource.ts';
import { Ctap2Error } from '../../tokens/ctap2/errors.ts';
import { PERMISSION } from '../../tokens/ctap2/status.ts';
import { PLUGIN_NAME, identityString, type Fido2PrfIdentity } from './format.ts';
import { T, TEXTS } from './texts.ts';

const RP_ID = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export async function generate(keys: AuthenticatorSet, rpId: string, pin: PinSource, onTouch?: (keyName: string) => void): Promise<{ identity: Fido2PrfIdentity; line: string; keyName: string }> {
  if (!RP_ID.test(rpId)) throw new Error(T.invalidRpId);
  const list = await keys.list();
  if (list.length === 0) {
    const why = [...keys.problems.values()];
    throw new Error(why.length ? `${T.noDevices} (${why.join('; ')})` : T.noDevices);
  }
  if (list.length > 1) throw new Error(T.multipleDevices);
  const a = list[0]!;
  if (!a.session.pinSet) throw new Ctap2Error('PIN_NOT_SET', T.noPinSet(a.name));
  const target = pinTarget(a, rpId, PERMISSION.MAKE_CREDENTIAL);
  await verifyPin(target, { family: PLUGIN_NAME, device: { key: a.info.path, label: a.name }, texts: { ...TEXTS, pinPrompt: () => T.generatePinPrompt }, sources: [pin] });
  const token = target.token()!;
  const cred = await a.session.makeCredential({
    rpId,
    userId: new Uint8Array([0]),
    userName: 'age-encryption.org/fido2prf',
    clientDataHash: new Uint8Array(32),
    hmacSecret: true,
    pinToken: token,
    ...(onTouch ? { onTouch: () => onTouch(a.name) } : {}),
  });
  if (!cred.hmacSecret) throw new Error(`${a.name} did not enable hmac-secret for the new credential`);
  const identity: Fido2PrfIdentity = { credentialId: cred.credentialId, rpId, transports: ['usb'] };
  return { identity, line: identityString(identity), keyName: a.name };
}
