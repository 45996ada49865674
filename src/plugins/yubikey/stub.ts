/**
 * Identity stubs `AGE-PLUGIN-YUBIKEY-1…`: serial (u32 little-endian) ‖ slot (0x82..0x95) ‖ tag
 * (4 bytes). A stub holds no key material; at use time the slot's public key must hash to the tag.
 */
import { decodePluginIdentity, encodePluginIdentity } from '../../age/bech32.ts';
import { YubiKeyError } from './errors.ts';
import { isRetiredSlot } from '../../tokens/piv/constants.ts';

export const PLUGIN_NAME = 'yubikey';
export const IDENTITY_HRP = `age-plugin-${PLUGIN_NAME}-`;

export interface Stub {
  serial: number;
  /** PIV slot byte, 0x82..0x95 (retired key slots R1..R20). */
  slot: number;
  tag: Uint8Array;
}

export function encodeStub(stub: Stub): string {
  if (!Number.isInteger(stub.serial) || stub.serial < 0 || stub.serial > 0xffffffff) {
    throw new YubiKeyError('INVALID_STUB', `Invalid YubiKey serial ${stub.serial}`);
  }
  if (!isRetiredSlot(stub.slot)) throw new YubiKeyError('INVALID_STUB', 'Invalid YubiKey stub');
  if (stub.tag.length !== 4) throw new YubiKeyError('INVALID_STUB', 'Invalid YubiKey stub');
  const bytes = new Uint8Array(9);
  new DataView(bytes.buffer).setUint32(0, stub.serial, true);
  bytes[4] = stub.slot;
  bytes.set(stub.tag, 5);
  return encodePluginIdentity(PLUGIN_NAME, bytes);
}

/** Parses a stub; like the reference, bytes after the ninth are ignored. */
export function decodeStub(s: string): Stub {
  let name: string;
  let data: Uint8Array;
  try {
    ({ name, data } = decodePluginIdentity(s));
  } catch (cause) {
    throw new YubiKeyError('INVALID_STUB', 'Invalid YubiKey stub', { cause });
  }
  if (name !== PLUGIN_NAME) throw new YubiKeyError('INVALID_STUB', 'Invalid YubiKey stub');
  return parseStubBytes(data);
}

/** The stub payload (already Bech32-decoded): serial, slot, tag. */
export function parseStubBytes(data: Uint8Array): Stub {
  if (data.length < 9 || !isRetiredSlot(data[4]!)) {
    throw new YubiKeyError('INVALID_STUB', 'Invalid YubiKey stub');
  }
  return {
    serial: new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true),
    slot: data[4]!,
    tag: data.slice(5, 9),
  };
}
