/**
 * Reader for the SSH wire encoding (RFC 4251 §5: uint32 and length-prefixed strings) used by
 * public key blobs and the OpenSSH private key container.
 */
export class WireReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly onError: (what: string) => Error,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  uint32(what: string): number {
    if (this.remaining < 4) throw this.onError(`${what} is truncated`);
    const v = this.view.getUint32(this.offset);
    this.offset += 4;
    return v;
  }

  bytesOf(length: number, what: string): Uint8Array {
    if (this.remaining < length) throw this.onError(`${what} is truncated`);
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  string(what: string): Uint8Array {
    return this.bytesOf(this.uint32(what), what);
  }

  text(what: string): string {
    return Buffer.from(this.string(what)).toString('latin1');
  }

  rest(): Uint8Array {
    const out = this.bytes.subarray(this.offset);
    this.offset = this.bytes.length;
    return out;
  }
}
