/**
 * A hostile FIDO2 authenticator behind CTAPHID and the CTAP2 session (src/transport/ctaphid.ts,
 * src/tokens/ctap2, through an injected HidConnection). The device answers each message the
 * host sends from a generated script: INIT answers (nonce, channel id, capabilities), getInfo,
 * clientPIN (key agreement, retries, PIN token), makeCredential and getAssertion with
 * hmac-secret — well-formed, with CBOR values of the wrong type, byte-mutated, with CTAP error
 * statuses — framed with keepalive floods, CTAPHID_ERROR codes, bogus lengths, foreign channel
 * ids, broken continuation sequences, dropped, repeated and random reports; when the script is
 * used up it goes silent, disappears or sends keepalives forever. Sessions end with a Ctap2Error
 * (the shared TokenError vocabulary; CtapHidError from the CTAPHID level itself), never a crash,
 * a hang or unbounded memory, and what they return has the documented shape.
 *
 * Time is virtual while a case runs: `Date.now` advances as the device "waits" (a silent read
 * costs its whole timeout, an endless keepalive a second), so the session's deadlines are reached at once.
 */
import fc from 'fast-check';
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hmacAssertion, pinTarget, type Authenticator } from '../../src/tokens/ctap2/authenticators.ts';
import { FLAG_AT, FLAG_ED, FLAG_UP, FLAG_UV } from '../../src/tokens/ctap2/authData.ts';
import { Ctap2Error } from '../../src/tokens/ctap2/errors.ts';
import { CMD, Ctap2Session, PERMISSION, type PinToken } from '../../src/tokens/ctap2/session.ts';
import { decodeCbor, encodeCbor } from '../../src/transport/cbor.ts';
import { CtapHidDevice, CtapHidError } from '../../src/transport/ctaphid.ts';
import { BROADCAST_CID, CTAPHID, HID_ERR, MAX_MESSAGE, Reassembly, fragment, parsePacket } from '../../src/transport/ctaphidFrame.ts';
import { HID_REPORT_SIZE, HidTransportError, type HidConnection, type HidDeviceInfo } from '../../src/transport/hid/connection.ts';
import { applyMutations, EXTREME_U32, mutation, type Mutation } from '../arbitraries.ts';
import { boundedError, registerTarget } from '../registry.ts';

const RP = 'age-encryption.org';
const CRED = new Uint8Array(64).fill(0xc1);
const CID = 0x0a0b0c0d;
const enc = (v: unknown) => encodeCbor(v);
/** The authenticator's key agreement (and credential) key: a fixed point, so that a seed always means the same cases. */
const kaPoint = p256.Point.BASE.multiply(7n).toBytes(false);
const coseKey = new Map<number, unknown>([[1, 2], [3, -25], [-1, 1], [-2, kaPoint.slice(1, 33)], [-3, kaPoint.slice(33)]]);
const credKey = new Map<number, unknown>([[1, 2], [3, -7], [-1, 1], [-2, kaPoint.slice(1, 33)], [-3, kaPoint.slice(33)]]);

function authData(flags: number, opts: { attested?: boolean; ext?: Map<string, unknown> } = {}): Uint8Array {
  const head = new Uint8Array(37);
  head.set(sha256(new TextEncoder().encode(RP)));
  head[32] = flags;
  head[36] = 7;
  const parts: Uint8Array[] = [head];
  if (opts.attested) parts.push(new Uint8Array(16).fill(0xaa), Uint8Array.of(CRED.length >> 8, CRED.length & 0xff), CRED, enc(credKey));
  if (opts.ext) parts.push(enc(opts.ext));
  return new Uint8Array(Buffer.concat(parts));
}

type Kind = 'getInfo' | 'retries' | 'keyAgreement' | 'token' | 'makeCredential' | 'getAssertion' | 'empty';
/** Well-formed answers (CBOR after the status byte), by what the host asked. */
const BASES: Record<Kind, unknown[]> = {
  getInfo: [
    new Map<number, unknown>([[1, ['U2F_V2', 'FIDO_2_0', 'FIDO_2_1']], [2, ['credProtect', 'hmac-secret']], [3, new Uint8Array(16).fill(1)], [4, new Map([['rk', true], ['up', true], ['clientPin', true], ['pinUvAuthToken', true]])], [5, 1200], [6, [2, 1]], [8, 128], [0x0d, 4], [0x0e, 5]]),
    new Map<number, unknown>([[1, ['FIDO_2_0']], [2, ['hmac-secret']], [3, new Uint8Array(16)], [4, new Map([['clientPin', false]])], [6, [1]]]),
  ],
  retries: [new Map<number, unknown>([[3, 8]]), new Map<number, unknown>([[3, 1], [4, false]])],
  keyAgreement: [new Map<number, unknown>([[1, coseKey]])],
  token: [new Map<number, unknown>([[2, new Uint8Array(48).fill(3)]]), new Map<number, unknown>([[2, new Uint8Array(32).fill(3)]])],
  makeCredential: [
    new Map<number, unknown>([[1, 'packed'], [2, authData(FLAG_UP | FLAG_UV | FLAG_AT | FLAG_ED, { attested: true, ext: new Map([['hmac-secret', true]]) })], [3, new Map<string, unknown>([['alg', -7], ['sig', new Uint8Array(70)]])]]),
    new Map<number, unknown>([[1, 'none'], [2, authData(FLAG_UP | FLAG_AT, { attested: true })], [3, new Map()]]),
  ],
  getAssertion: [
    new Map<number, unknown>([[1, new Map<string, unknown>([['id', CRED], ['type', 'public-key']])], [2, authData(FLAG_UP | FLAG_ED, { ext: new Map([['hmac-secret', new Uint8Array(48).fill(5)]]) })], [3, new Uint8Array(71)]]),
    new Map<number, unknown>([[1, new Map<string, unknown>([['id', CRED], ['type', 'public-key']])], [2, authData(FLAG_UP | FLAG_UV | FLAG_ED, { ext: new Map([['hmac-secret', new Uint8Array(80).fill(5)]]) })], [3, new Uint8Array(71)]]),
    new Map<number, unknown>([[2, authData(FLAG_UP | FLAG_ED, { ext: new Map([['hmac-secret', new Uint8Array(32).fill(5)]]) })], [3, new Uint8Array(71)]]),
    new Map<number, unknown>([[1, new Map<string, unknown>([['id', CRED]])], [2, authData(0)], [3, new Uint8Array(8)]]),
  ],
  empty: [new Map()],
};
const ALL_BASES = Object.values(BASES).flat();

/** What the host asked, from its message (`cmd ‖ CBOR` for CTAPHID_CBOR). */
function kindOf(msg: Uint8Array): Kind {
  switch (msg[0]) {
    case CMD.GET_INFO:
      return 'getInfo';
    case CMD.MAKE_CREDENTIAL:
      return 'makeCredential';
    case CMD.GET_ASSERTION:
      return 'getAssertion';
    case CMD.CLIENT_PIN: {
      const sub = (decodeCbor(msg.subarray(1)) as Map<number, unknown>).get(2);
      return sub === 0x01 ? 'retries' : sub === 0x02 ? 'keyAgreement' : sub === 0x05 || sub === 0x09 ? 'token' : 'empty';
    }
    default:
      return 'empty';
  }
}

/** CBOR values of every type and awkward size, to put where the session expects another. */
const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, 1, 255, 256, 2 ** 32, Number.MAX_SAFE_INTEGER, -(2 ** 40), 1.5, true, false, null, '', 'hmac-secret', 'x'.repeat(300)),
  fc.constantFrom(0, 1, 15, 16, 31, 32, 33, 47, 48, 64, 65, 80, 1023, 1024, 3000).map((n) => new Uint8Array(n).fill(n & 0xff)),
  fc.constantFrom([], [1, 2], ['FIDO_2_1', 7], [new Uint8Array(1)]),
  fc.constantFrom(new Map(), new Map([[1, 2]]), new Map<unknown, unknown>([['id', 5]]), new Map<unknown, unknown>([[-2, new Uint8Array(32)], [-3, new Uint8Array(31)], [1, 2], [-1, 1]])),
);
const mapKey = fc.constantFrom<unknown>(1, 2, 3, 4, 5, 6, 8, 0x0d, 0x0e, 'id', 'hmac-secret', -2, -3);
const structural = fc.array(fc.record({ key: mapKey, inner: fc.option(mapKey, { nil: undefined }), value: weird }), { maxLength: 2 });

function restructure(base: unknown, edits: readonly { key: unknown; inner?: unknown; value: unknown }[]): unknown {
  if (!(base instanceof Map) || edits.length === 0) return base;
  const out = new Map(base);
  for (const e of edits) {
    const sub = out.get(e.key);
    if (e.inner !== undefined && sub instanceof Map) out.set(e.key, new Map(sub).set(e.inner, e.value));
    else out.set(e.key, e.value);
  }
  return out;
}

type Framing =
  | { kind: 'cid'; at: number; cid: number }
  | { kind: 'bcnt'; length: number }
  | { kind: 'cmd'; cmd: number }
  | { kind: 'seq'; at: number; seq: number }
  | { kind: 'drop' | 'dup' | 'swap'; at: number }
  | { kind: 'insert'; at: number; report: Uint8Array; ours: boolean }
  | { kind: 'keepalive'; at: number; status: number }
  | { kind: 'error'; code: number };

const framing: fc.Arbitrary<Framing> = fc.oneof(
  fc.record({ kind: fc.constant('cid' as const), at: fc.nat(), cid: fc.oneof(fc.constantFrom(BROADCAST_CID, 0, CID + 1), fc.constantFrom(...EXTREME_U32)) }),
  fc.record({ kind: fc.constant('bcnt' as const), length: fc.oneof(fc.constantFrom(0, 1, 16, 17, 57, 58, 116, 117, MAX_MESSAGE, MAX_MESSAGE + 1, 0xffff), fc.integer({ min: 0, max: 0xffff })) }),
  fc.record({ kind: fc.constant('cmd' as const), cmd: fc.oneof(fc.constantFrom(CTAPHID.PING, CTAPHID.MSG, CTAPHID.INIT, CTAPHID.CBOR, CTAPHID.CANCEL, CTAPHID.KEEPALIVE, CTAPHID.ERROR), fc.integer({ min: 0, max: 0x7f })) }),
  fc.record({ kind: fc.constant('seq' as const), at: fc.nat(), seq: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constantFrom('drop' as const, 'dup' as const, 'swap' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), report: fc.uint8Array({ minLength: HID_REPORT_SIZE, maxLength: HID_REPORT_SIZE }), ours: fc.boolean() }),
  fc.record({ kind: fc.constant('keepalive' as const), at: fc.nat(), status: fc.constantFrom(1, 2, 0, 0xff) }),
  fc.record({
    kind: fc.constant('error' as const),
    // CHANNEL_BUSY makes the host wait 100 ms (real time) and resend: kept rare.
    code: fc.oneof({ weight: 60, arbitrary: fc.constantFrom(HID_ERR.INVALID_CMD, HID_ERR.INVALID_PAR, HID_ERR.INVALID_LEN, HID_ERR.INVALID_SEQ, HID_ERR.MSG_TIMEOUT, HID_ERR.LOCK_REQUIRED, HID_ERR.INVALID_CHANNEL, HID_ERR.OTHER, 0, 0xff) }, { weight: 1, arbitrary: fc.constant(HID_ERR.CHANNEL_BUSY) }),
  }),
);

export interface Answer {
  /** Answer with a base of the kind asked for (else any base). */
  match: boolean;
  pick: number;
  status: number;
  edits: { key: unknown; inner?: unknown; value: unknown }[];
  mutations: Mutation[];
  /** The channel an INIT answer allocates. */
  cid: number;
  capabilities: number;
  keepalives: number;
  framing: Framing[];
}

const answer: fc.Arbitrary<Answer> = fc.record({
  match: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  pick: fc.nat(),
  status: fc.oneof({ weight: 40, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constantFrom(0x01, 0x06, 0x11, 0x12, 0x14, 0x22, 0x26, 0x27, 0x2b, 0x2d, 0x2e, 0x2f, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x3a, 0x7f) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 255 }) }),
  edits: fc.oneof({ weight: 10, arbitrary: fc.constant<Answer['edits']>([]) }, { weight: 1, arbitrary: structural }),
  mutations: fc.oneof({ weight: 10, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 1, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) }),
  cid: fc.oneof({ weight: 20, arbitrary: fc.constant(CID) }, { weight: 1, arbitrary: fc.constantFrom(...EXTREME_U32, BROADCAST_CID) }),
  capabilities: fc.oneof({ weight: 20, arbitrary: fc.constantFrom(0x05, 0x0d, 0x04) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
  keepalives: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: fc.integer({ min: 1, max: 3 }) }, { weight: 1, arbitrary: fc.integer({ min: 100, max: 3000 }) }),
  framing: fc.oneof({ weight: 8, arbitrary: fc.constant<Framing[]>([]) }, { weight: 2, arbitrary: fc.array(framing, { minLength: 1, maxLength: 3 }) }),
});

/** A well-formed answer of the kind asked for (tests start from it). */
export const WELL_FORMED: Answer = { match: true, pick: 0, status: 0, edits: [], mutations: [], cid: CID, capabilities: 0x05, keepalives: 0, framing: [] };

const keepalive = (cid: number, status: number) => {
  const [p] = fragment(cid, CTAPHID.KEEPALIVE, Uint8Array.of(status));
  return p!;
};

function frame(packets: Uint8Array[], cid: number, edits: readonly Framing[]): Uint8Array[] {
  let out: Uint8Array[] = packets.map((p) => Uint8Array.from(p));
  const answerInit = () => out.findIndex((p) => (p[4]! & 0x80) !== 0 && p[4] !== (0x80 | CTAPHID.KEEPALIVE));
  for (const e of edits) {
    const at = out.length ? e.kind === 'insert' || e.kind === 'keepalive' ? e.at % (out.length + 1) : 'at' in e ? e.at % out.length : 0 : 0;
    switch (e.kind) {
      case 'cid':
        if (out[at]) new DataView(out[at]!.buffer).setUint32(0, e.cid >>> 0);
        break;
      case 'bcnt': {
        const i = answerInit();
        if (i >= 0) new DataView(out[i]!.buffer).setUint16(5, e.length);
        break;
      }
      case 'cmd': {
        const i = answerInit();
        if (i >= 0) out[i]![4] = 0x80 | e.cmd;
        break;
      }
      case 'seq':
        if (out[at] && !(out[at]![4]! & 0x80)) out[at]![4] = e.seq;
        break;
      case 'drop':
        out.splice(at, 1);
        break;
      case 'dup':
        if (out[at]) out.splice(at, 0, Uint8Array.from(out[at]!));
        break;
      case 'swap':
        if (at + 1 < out.length) [out[at], out[at + 1]] = [out[at + 1]!, out[at]!];
        break;
      case 'insert': {
        const r = Uint8Array.from(e.report);
        if (e.ours) new DataView(r.buffer).setUint32(0, cid >>> 0);
        out.splice(at, 0, r);
        break;
      }
      case 'keepalive':
        out.splice(at, 0, keepalive(cid, e.status));
        break;
      case 'error':
        out = [fragment(cid, CTAPHID.ERROR, Uint8Array.of(e.code))[0]!];
        break;
    }
  }
  return out;
}

/** Virtual time: the clock the session's deadlines read while a case runs. */
const clock = { offset: 0, advance(ms: number) { this.offset += ms; } };
const realNow = Date.now;

export type Then = 'silent' | 'gone' | 'keepalive';

/** The hostile device: answers each complete host message with the next scripted answer. */
export class HostileAuthenticator implements HidConnection {
  private readonly queue: Uint8Array[] = [];
  private host?: Reassembly;
  private next = 0;
  private lastCid = BROADCAST_CID;
  /** Reports queued in all (bounded by the script: a flood is at most a few thousand). */
  sent = 0;

  constructor(
    private readonly answers: readonly Answer[],
    private readonly then: Then,
  ) {}

  async write(report: Uint8Array): Promise<void> {
    if (report.length !== HID_REPORT_SIZE) throw new Error(`the host wrote a report of ${report.length} bytes`);
    const p = parsePacket(report);
    this.lastCid = p.cid;
    if (p.kind === 'init') {
      if (p.cmd === CTAPHID.CANCEL) return;
      this.host = new Reassembly(p);
      if (this.host.complete) this.respond(p.cid, p.cmd, this.host.message);
    } else if (this.host?.add(p)) this.respond(p.cid, this.host.init.cmd, this.host.message);
  }

  private respond(cid: number, cmd: number, msg: Uint8Array): void {
    const a = this.answers[this.next++];
    if (!a) return;
    let payload: Uint8Array;
    if (cmd === CTAPHID.INIT) {
      payload = new Uint8Array(17);
      payload.set(msg.subarray(0, 8));
      new DataView(payload.buffer).setUint32(8, a.cid >>> 0);
      payload.set([2, 5, 4, 1, a.capabilities], 12);
    } else if (cmd === CTAPHID.CBOR) {
      const bases = a.match ? BASES[kindOf(msg)] : ALL_BASES;
      const body = a.status === 0 || a.pick % 8 === 0 ? enc(restructure(bases[a.pick % bases.length], a.edits)) : new Uint8Array(0);
      payload = new Uint8Array(Buffer.concat([Uint8Array.of(a.status), body]));
    } else {
      payload = msg;
    }
    payload = applyMutations(payload, a.mutations).subarray(0, MAX_MESSAGE);
    const packets = [...Array.from({ length: a.keepalives }, () => keepalive(cid, a.pick % 5 === 0 ? 1 : 2)), ...fragment(cid, cmd, payload)];
    const framed = frame(packets, cid, a.framing);
    this.sent += framed.length;
    this.queue.push(...framed);
  }

  async read(timeoutMs: number): Promise<Uint8Array> {
    const r = this.queue.shift();
    if (r) {
      clock.advance(1);
      return r;
    }
    switch (this.then) {
      case 'silent':
        clock.advance(timeoutMs);
        throw new HidTransportError('TIMEOUT', `no answer from the FIDO2 device within ${timeoutMs} ms`);
      case 'gone':
        throw new HidTransportError('DEVICE_GONE', 'fuzz: the authenticator was unplugged');
      case 'keepalive':
        // A keepalive a second, for ever: only the session's own deadline ends this.
        clock.advance(1000);
        return keepalive(this.lastCid, 2);
    }
  }

  async close(): Promise<void> {}
}

const SALT1 = new Uint8Array(32).fill(1);
const SALT2 = new Uint8Array(32).fill(2);

interface State {
  session: Ctap2Session;
  device: CtapHidDevice;
  token?: PinToken;
}

const OPS: Record<string, (s: State) => Promise<void>> = {
  async getInfo({ session }) {
    const i = await session.getInfo();
    if (i.aaguid.length > MAX_MESSAGE || !Array.isArray(i.versions)) throw new Error('getInfo returned an impossible answer');
  },
  async getPinRetries({ session }) {
    const { retries } = await session.getPinRetries();
    if (!Number.isInteger(retries) || retries < 0 || retries > 255) throw new Error(`getPinRetries returned ${retries}`);
  },
  async getPinToken(s) {
    const t = await s.session.getPinToken('123456', PERMISSION.GET_ASSERTION, RP);
    if (t.token.length !== 16 && t.token.length !== 32) throw new Error(`a PIN token of ${t.token.length} bytes`);
    s.token = t;
  },
  setPin: ({ session }) => session.setPin('123456'),
  changePin: ({ session }) => session.changePin('123456', '654321'),
  async makeCredential({ session, token }) {
    const c = await session.makeCredential({ rpId: RP, userId: new Uint8Array(32), userName: 'fuzz', hmacSecret: true, ...(token ? { pinToken: token } : {}) });
    if (c.credentialId.length > 1023) throw new Error(`a credential id of ${c.credentialId.length} bytes`);
  },
  async getAssertion({ session, token }) {
    const r = await session.getAssertion({ rpId: RP, allowList: [CRED], hmacSalts: [SALT1, SALT2], ...(token ? { pinToken: token } : {}) });
    if (r.hmacOutputs?.length !== 2 || r.hmacOutputs.some((o) => o.length !== 32)) throw new Error('getAssertion returned hmac-secret outputs of the wrong shape');
  },
  async probe({ session }) {
    const asked = [CRED, new Uint8Array(16)];
    const found = await session.probe(RP, asked);
    if (found !== null && !asked.some((id) => Buffer.from(id).equals(found))) throw new Error(`probe found a credential (${found.length} bytes) that was not asked for`);
  },
  async hmacAssertion({ session }) {
    const a: Authenticator = { info: { path: 'fuzz', open: () => Promise.reject(new Error('unused')) }, name: 'fuzz key', session, tokens: new Map() };
    const out = await hmacAssertion(a, { rpId: RP, credentialId: CRED, salts: [SALT1] }, {
      verifyPin: async (target) => {
        const st = await target.status();
        if (!st.verified) await target.verify('123456');
      },
    });
    if (out.length !== 1 || out[0]!.length !== 32) throw new Error('hmacAssertion returned outputs of the wrong shape');
    await pinTarget(a, RP).status();
  },
  async ping({ device }) {
    await device.ping(new Uint8Array(100).fill(7));
  },
};

const input = fc.record({
  answers: fc.array(answer, { minLength: 1, maxLength: 10 }),
  then: fc.constantFrom<Then>('silent', 'silent', 'silent', 'gone', 'keepalive'),
  pinProtocol: fc.constantFrom(undefined, 1, 2),
  ops: fc.array(fc.constantFrom(...Object.keys(OPS)), { minLength: 1, maxLength: 4 }),
});

/** Documented: Ctap2Error from the session; CtapHidError from the CTAPHID level (opening, PING). */
const documented = (e: unknown, hidLevel: boolean) => boundedError(e, Ctap2Error) || (hidLevel && boundedError(e, CtapHidError));

registerTarget({
  name: 'ctap2-session',
  description: 'CtapHidDevice + Ctap2Session (open, getInfo, clientPIN, makeCredential, getAssertion/hmac-secret, probe) against an authenticator whose every answer and framing is generated',
  input,
  async run({ answers, then, pinProtocol, ops }) {
    const device = new HostileAuthenticator(answers, then);
    const info: HidDeviceInfo = { path: 'fuzz:hostile', product: 'hostile authenticator', open: async () => device };
    clock.offset = 0;
    Date.now = () => realNow() + clock.offset;
    try {
      let state: State;
      try {
        const hid = await CtapHidDevice.open(info);
        state = { device: hid, session: await Ctap2Session.open(hid, pinProtocol ? { pinProtocol: pinProtocol as 1 | 2 } : {}) };
      } catch (e) {
        if (!documented(e, true)) throw e;
        return;
      }
      for (const op of ops) {
        try {
          await OPS[op]!(state);
        } catch (e) {
          if (!documented(e, op === 'ping')) throw e;
        }
      }
      await state.session.close();
    } finally {
      Date.now = realNow;
    }
  },
  documented: () => false,
});
