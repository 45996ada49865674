/**
 * keybridge library entry point. Everything the CLIs do is callable from here; the virtual
 * tokens and the pcscd rig, for tests and CI, are in `keybridge/testing`.
 */
export { VERSION } from './version.ts';

// ssh-to-age: SSH Ed25519 keys → age recipients and identities.
export {
  ed25519FromSshBlob,
  ed25519PublicKeyToAgeRecipient,
  ed25519PublicKeysToAgeRecipients,
  ed25519SeedToAgeIdentity,
  ed25519SeedToX25519Scalar,
  sshBlobKeyType,
  x25519ToAgeRecipient,
} from './ssh/convert.ts';
export { KeyConversionError, type SshToAgeErrorCode } from './ssh/errors.ts';
export {
  convertPublicKeyLines,
  parsePublicKeyLine,
  skippedKeyMessage,
  sshPublicKeyToAgeRecipient,
  type LineOutcome,
  type LineResult,
  type PublicKeysConversion,
} from './ssh/lines.ts';
export { parseEd25519PrivateKey, SUPPORTED_CIPHERS, type Ed25519PrivateKey } from './ssh/privateKey.ts';
export { isValidEd25519Encoding } from './ssh/montgomery.ts';
export { sshPrivateKeyToAgeIdentity, type AgeKeyPair } from './ssh/identity.ts';
export { writeFileAtomic, type AtomicWriteOptions } from './fs/atomicWrite.ts';

// age plugin protocol and stanzas.
export { encodeStanza, StanzaReader, ProtocolError, type Stanza } from './age/stanza.ts';
export { runPlugin, type RecipientV1Handler, type IdentityV1Handler, type PluginOptions } from './age/plugin/server.ts';
export { UiFailure, type PluginUi } from './age/plugin/ui.ts';

// Post-quantum age keys: age1pq1 / age1tagpq1 / AGE-SECRET-KEY-PQ-1 strings, mlkem768p256tag with
// the P-256 half behind an ECDH oracle (a card), the software mlkem768x25519 identity.
export {
  classifyPqKey,
  decodeHybridIdentity,
  decodeHybridRecipient,
  decodeTagPqRecipient,
  encodeHybridIdentity,
  encodeHybridRecipient,
  encodeTagPqRecipient,
  hybridIdentityToRecipient,
  type PqKeyClass,
  type PqKeyKind,
} from './age/pqKeys.ts';
export { parseMlkem768P256Tag, mlkem768P256TagMatches, tagPqStaticTag, type Mlkem768P256TagStanza } from './age/mlkem768p256tag.ts';
export { tagPqKey, tagPqIdentity, unwrapMlkem768P256Tag, wrapMlkem768P256Tag, type TagPqKey } from './age/mlkem768p256tagKey.ts';
export { hybridIdentity, wrapMlkem768X25519, unwrapMlkem768X25519, parseMlkem768X25519 } from './age/mlkem768x25519.ts';
export { labelMixError, stanzaLabels, POSTQUANTUM } from './age/labels.ts';

// YubiKey (PIV) as an age identity: formats, in-process typage recipient/identity, PC/SC.
export { YubiKeyRecipient, YubiKeyIdentity, type YubiKeyIdentityOptions } from './plugins/yubikey/typage.ts';
export { encodeRecipient as encodeYubiKeyRecipient, decodeRecipient as decodeYubiKeyRecipient, encodeTagRecipient, recipientTag } from './plugins/yubikey/recipient.ts';
export { encodeStub, decodeStub, type Stub } from './plugins/yubikey/stub.ts';
export { wrapPivP256, unwrapPivP256, parsePivP256 } from './plugins/yubikey/pivP256.ts';
export { YubiKeyError } from './plugins/yubikey/errors.ts';
export { PivSession } from './tokens/piv/session.ts';

// Pico HSM (SmartCard-HSM) as an age identity: formats, in-process typage recipient/identity.
export { PicoHsmRecipient, PicoHsmIdentity, type PicoHsmIdentityOptions } from './plugins/picohsm/typage.ts';
export { encodeRecipient as encodePicoHsmRecipient, decodeRecipient as decodePicoHsmRecipient, fingerprint as picoHsmFingerprint } from './plugins/picohsm/recipient.ts';
export { encodeIdentity as encodePicoHsmIdentity, decodeIdentity as decodePicoHsmIdentity } from './plugins/picohsm/identity.ts';
export { wrapPicoHsm, unwrapPicoHsm, parsePicoHsm } from './plugins/picohsm/stanza.ts';
export { PicoHsmError } from './plugins/picohsm/errors.ts';
export { ScHsmSession } from './tokens/schsm/session.ts';
export { openPcsc } from './transport/pcsc.ts';
export type { CardReaders } from './transport/readers.ts';

// FIDO2 (CTAP2 over CTAPHID: USB HID through node-hid, or TCP with the Pico FIDO framing).
export { CtapHidDevice, CtapHidError, type CallOptions } from './transport/ctaphid.ts';
export { fido2DeviceSource, FIDO2_TCP_ENV, type Fido2DeviceSource } from './transport/fido2Devices.ts';
export { tcpDevice } from './transport/hid/tcp.ts';
export { fidoHidDevices, loadNodeHid, type NodeHidModule } from './transport/hid/nodeHid.ts';
export type { HidConnection, HidDeviceInfo } from './transport/hid/connection.ts';
export { Ctap2Session, PERMISSION as CTAP2_PERMISSION, type Ctap2Info, type PinToken, type AssertionResult, type MakeCredentialResult } from './tokens/ctap2/session.ts';
export { Ctap2Error, type Ctap2ErrorKind } from './tokens/ctap2/errors.ts';
export { AuthenticatorSet, hmacAssertion, type Authenticator } from './tokens/ctap2/authenticators.ts';
export * as fido2Hmac from './plugins/fido2-hmac/format.ts';
export { Fido2HmacIdentity, Fido2HmacRecipient, type Fido2TypageOptions } from './plugins/fido2-hmac/typage.ts';
export * as fido2Prf from './plugins/fido2prf/format.ts';
export { Fido2PrfIdentity, type Fido2PrfOptions } from './plugins/fido2prf/typage.ts';

// Virtual tokens and the pcscd rig are in the testing entry (keybridge/testing, src/testing.ts).
export { findPlugin, runRecipientV1, runIdentityV1, nonInteractiveUi, terminalUi, PluginError, type ClientUi } from './age/plugin/client.ts';
export { pluginRecipient, pluginIdentity } from './age/plugin/typage.ts';
