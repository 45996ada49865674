/**
 * Sealed values on an agent connection: each side sends an ephemeral X25519 key in `hello`;
 * HKDF-SHA256 over the shared secret (salt = client key ‖ agent key) gives one
 * ChaCha20-Poly1305 key per direction, with a 96-bit message counter as the nonce. Only the PIN
 * a plugin relays and the file keys the agent returns are sealed, so neither is ever written to
 * the socket in clear.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64 } from '@scure/base';
import { AgentProtocolError } from './protocol.ts';

const INFO_C2S = new TextEncoder().encode('keybridge-agent/v1 client to agent');
const INFO_S2C = new TextEncoder().encode('keybridge-agent/v1 agent to client');

export class Handshake {
  private readonly secret = x25519.utils.randomSecretKey();
  readonly publicKey = base64.encode(x25519.getPublicKey(this.secret));

  /** Completes the exchange; `role` says which side this is. */
  finish(peerPublic: string, role: 'client' | 'agent'): SealedChannel {
    const peer = base64.decode(peerPublic);
    if (peer.length !== 32) throw new AgentProtocolError('BAD_MESSAGE', 'hello: the key must be 32 bytes');
    let shared: Uint8Array;
    try {
      shared = x25519.getSharedSecret(this.secret, peer);
    } catch {
      throw new AgentProtocolError('BAD_MESSAGE', 'hello: not a usable X25519 key');
    }
    this.secret.fill(0);
    const own = base64.decode(this.publicKey);
    const salt = new Uint8Array(64);
    salt.set(role === 'client' ? own : peer, 0);
    salt.set(role === 'client' ? peer : own, 32);
    const c2s = hkdf(sha256, shared, salt, INFO_C2S, 32);
    const s2c = hkdf(sha256, shared, salt, INFO_S2C, 32);
    shared.fill(0);
    return role === 'client' ? new SealedChannel(c2s, s2c) : new SealedChannel(s2c, c2s);
  }
}

export class SealedChannel {
  private sent = 0n;
  private received = 0n;
  constructor(
    private readonly sendKey: Uint8Array,
    private readonly receiveKey: Uint8Array,
  ) {}

  private static nonce(n: bigint): Uint8Array {
    const out = new Uint8Array(12);
    new DataView(out.buffer).setBigUint64(4, n);
    return out;
  }

  /** Seals bytes for the other side; the result is base64. */
  seal(plain: Uint8Array): string {
    return base64.encode(chacha20poly1305(this.sendKey, SealedChannel.nonce(this.sent++)).encrypt(plain));
  }

  /** Opens the next sealed value from the other side (in order); throws on tampering or reordering. */
  open(sealed: string): Uint8Array {
    try {
      return chacha20poly1305(this.receiveKey, SealedChannel.nonce(this.received++)).decrypt(base64.decode(sealed));
    } catch {
      throw new AgentProtocolError('BAD_SEAL', 'a sealed value does not open');
    }
  }

  close(): void {
    this.sendKey.fill(0);
    this.receiveKey.fill(0);
  }
}
