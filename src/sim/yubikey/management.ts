/**
 * Enough of the YubiKey management application for `ykman info`/`ykman list`: SELECT answers with
 * a version string, READ CONFIG (INS 1D) with the device-info TLVs (capabilities, serial, form
 * factor, firmware version, flags).
 */
import { concatBytes, tlv } from '../../transport/tlv.ts';
import { response, SW, SwError, type CommandApdu } from '../apdu.ts';
import type { YubiKeyState } from './state.ts';

/** OTP | U2F | OPENPGP | PIV | OATH | FIDO2 (0x023B, as a YubiKey 5). */
const CAPABILITIES = Uint8Array.of(0x02, 0x3b);

export function managementSelect(s: YubiKeyState): Uint8Array {
  return response(new TextEncoder().encode(`Virtual mgr - FW version ${s.version.join('.')}`), SW.OK);
}

export function managementProcess(s: YubiKeyState, cmd: CommandApdu): Uint8Array {
  if (cmd.ins !== 0x1d) throw new SwError(SW.INS_NOT_SUPPORTED);
  const serial = Uint8Array.of(s.serial >>> 24, (s.serial >>> 16) & 0xff, (s.serial >>> 8) & 0xff, s.serial & 0xff);
  const body = concatBytes(
    tlv(0x01, CAPABILITIES), // USB supported
    tlv(0x02, serial),
    tlv(0x03, CAPABILITIES), // USB enabled
    tlv(0x04, Uint8Array.of(0x01)), // form factor: USB-A keychain
    tlv(0x05, Uint8Array.from(s.version)),
    tlv(0x06, Uint8Array.of(0x00, 0x00)), // auto-eject timeout
    tlv(0x07, Uint8Array.of(0x0f)), // challenge-response timeout
    tlv(0x08, Uint8Array.of(0x00)), // device flags
    tlv(0x0a, Uint8Array.of(0x00)), // configuration unlocked
  );
  return response(concatBytes(Uint8Array.of(body.length), body), SW.OK);
}
