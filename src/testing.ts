/**
 * `keybridge/testing`: virtual tokens and the pcscd rig, for users' tests and CI (the main entry
 * point exports none of them).
 *
 *   import { startRig, startVirtualYubiKey } from 'keybridge/testing';
 *   const rig = await startRig();                                   // pcscd + vpcd (root)
 *   const yk = await startVirtualYubiKey({ port: rig.ports[0], serial: 12345678 });
 *   …                                                               // ykman, age-plugin-yubikey, your code
 *   await yk.stop(); await rig.stop();
 *
 *   const key = await startVirtualFido2({ port: 0 });             // a FIDO2 key on TCP, no root
 *   process.env.KEYBRIDGE_FIDO2_TCP = key.endpoint;                // age-plugin-fido2-hmac / fido2prf use it
 */
export { startRig, rigUnavailableReason, RigError, type Rig, type RigOptions, type RigReader } from './rig/pcscd.ts';
export { virtualTokens } from './sim/tokens.ts';
export type { VirtualTokenKind, RunningToken } from './sim/token.ts';
export { startVirtualYubiKey, VirtualYubiKey, type VirtualYubiKeyOptions } from './sim/yubikey/card.ts';
export type { TouchBehaviour } from './sim/yubikey/piv.ts';
export { startVirtualPicoHsm, VirtualPicoHsm, type VirtualPicoHsmOptions, type ButtonBehaviour } from './sim/picohsm/card.ts';
export { inProcessReaders, type InProcessReaders } from './sim/inProcess.ts';
export { startVirtualFido2, type VirtualFido2, type VirtualFido2Options } from './sim/fido2/server.ts';
export type { TouchMode as Fido2TouchMode, AuthenticatorEvent as Fido2Event } from './sim/fido2/authenticator.ts';
