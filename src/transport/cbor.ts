/**
 * CTAP2 canonical CBOR (CTAP 2.1 §8 "Message Encoding") over cborg: maps with integer keys are
 * JavaScript `Map`s, keys are sorted length-first (cborg's default canonical order, which is
 * CTAP's), byte strings are `Uint8Array`. Decoding is strict: no indefinite lengths, no
 * undefined, duplicate map keys and trailing bytes refused.
 */
import { decode, decodeFirst, encode } from 'cborg';

export type CborValue = unknown;

export function encodeCbor(value: CborValue): Uint8Array {
  return encode(value);
}

export function decodeCbor(bytes: Uint8Array): CborValue {
  return decode(bytes, DECODE_OPTIONS);
}

const DECODE_OPTIONS = { useMaps: true, strict: true, rejectDuplicateMapKeys: true, allowIndefinite: false, allowUndefined: false } as const;

/** Decodes the first CBOR item of `bytes`; returns it and the bytes after it. */
export function decodeCborFirst(bytes: Uint8Array): [CborValue, Uint8Array] {
  return decodeFirst(bytes, DECODE_OPTIONS);
}

/** A CBOR map read from hostile input: typed getters that throw `TypeError` on a wrong type. */
export class CborMap {
  constructor(readonly map: Map<unknown, unknown>) {}

  static from(value: unknown, what: string): CborMap {
    if (!(value instanceof Map)) throw new TypeError(`${what} is not a CBOR map`);
    return new CborMap(value);
  }

  has(key: number | string): boolean {
    return this.map.has(key);
  }

  raw(key: number | string): unknown {
    return this.map.get(key);
  }

  bytes(key: number | string): Uint8Array | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    if (!(v instanceof Uint8Array)) throw new TypeError(`CBOR key ${String(key)} is not a byte string`);
    return v;
  }

  int(key: number | string): number | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new TypeError(`CBOR key ${String(key)} is not an integer`);
    return v;
  }

  text(key: number | string): string | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new TypeError(`CBOR key ${String(key)} is not a text string`);
    return v;
  }

  bool(key: number | string): boolean | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw new TypeError(`CBOR key ${String(key)} is not a boolean`);
    return v;
  }

  sub(key: number | string): CborMap | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    return CborMap.from(v, `CBOR key ${String(key)}`);
  }

  array(key: number | string): unknown[] | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw new TypeError(`CBOR key ${String(key)} is not an array`);
    return v;
  }
}
