/**
 * identity-v1 for YubiKeys (age-plugin-yubikey's IdentityPlugin, plus p256tag and the
 * post-quantum mlkem768p256tag): match each file's `piv-p256` / `p256tag` / `mlkem768p256tag`
 * stanzas to identity stubs by tag (no card access for a stanza that names another key), touch only YubiKeys that a
 * stanza references (most-referenced first), ask for a missing YubiKey, verify the PIN as the
 * slot's policy requires, and unwrap with card ECDH. Cards are left powered (LEAVE_CARD) so a
 * PIN-once verification survives to the next file and the next process.
 */
import { extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { KeyAlgorithm } from '../../tokens/piv/constants.ts';
import { PivError } from '../../tokens/piv/errors.ts';
import { TransportError } from '../../transport/apdu.ts';
import type { CardReaders } from '../../transport/readers.ts';
import { parseP256Tag, unwrapP256Tag, P256TAG_TYPE, type P256TagStanza } from '../../age/p256tag.ts';
import {
  mlkem768P256TagMatches,
  parseMlkem768P256Tag,
  unwrapMlkem768P256Tag,
  type Mlkem768P256TagStanza,
} from '../../age/mlkem768p256tag.ts';
import { openBySerial, translateTransportError, type YubiKey } from './devices.ts';
import { YubiKeyError } from './errors.ts';
import { parsePivP256, PIV_P256_TYPE, tagsEqual, unwrapPivP256, type PivP256Stanza, type RawStanza } from './pivP256.ts';
import { verifyPinForDecryption } from './pin.ts';
import { readSlotForStub } from './slotKey.ts';
import { S } from './strings.ts';
import { decodeStub, type Stub } from './stub.ts';
import type { UnwrapEnvironment, YubiKeyUi } from './ui.ts';

export type UnwrapError =
  | { kind: 'identity'; index: number; message: string }
  | { kind: 'stanza'; file: number; index: number; message: string }
  | { kind: 'internal'; message: string };

export interface UnwrapResult {
  /** file index → file key */
  fileKeys: Map<number, Uint8Array>;
  /** In the order they happened. */
  errors: UnwrapError[];
  /** Command APDUs sent to all cards. */
  apdus: number;
}

type Candidate =
  | { file: number; stanzaIndex: number; kind: 'piv'; stanza: PivP256Stanza }
  | { file: number; stanzaIndex: number; kind: 'tag'; stanza: P256TagStanza }
  | { file: number; stanzaIndex: number; kind: 'tagpq'; stanza: Mlkem768P256TagStanza };

const P256TAG_LABEL = new TextEncoder().encode('age-encryption.org/p256tag');

function p256TagMatchesStaticTag(stanza: P256TagStanza, staticTag: Uint8Array): boolean {
  const ikm = new Uint8Array(69);
  ikm.set(stanza.enc, 0);
  ikm.set(staticTag, 65);
  return tagsEqual(extract(sha256, ikm, P256TAG_LABEL).subarray(0, 4), stanza.tag);
}

function stanzaOf(s: RawStanza | { args: string[]; body: Uint8Array; type?: string }): RawStanza {
  return 'type' in s && typeof s.type === 'string' ? (s as RawStanza) : { type: s.args[0] ?? '', args: s.args.slice(1), body: s.body };
}

const TOUCH_CACHE_MS = 15_000;

export async function unwrapFiles(
  req: { identities: string[]; files: RawStanza[][]; ui: YubiKeyUi; readers: CardReaders },
  env: UnwrapEnvironment = {},
): Promise<UnwrapResult> {
  const result: UnwrapResult = { fileKeys: new Map(), errors: [], apdus: 0 };

  const stubs: { index: number; stub: Stub }[] = [];
  req.identities.forEach((s, index) => {
    try {
      stubs.push({ index, stub: decodeStub(s) });
    } catch {
      result.errors.push({ kind: 'identity', index, message: S.invalidStub });
    }
  });

  // Parse every known stanza; a malformed one fails its file.
  const failedFiles = new Set<number>();
  const candidates: Candidate[] = [];
  req.files.forEach((file, fileIndex) => {
    file.map(stanzaOf).forEach((st, stanzaIndex) => {
      if (failedFiles.has(fileIndex)) return;
      if (st.type === PIV_P256_TYPE) {
        const parsed = parsePivP256(st);
        if (!parsed) {
          result.errors.push({ kind: 'stanza', file: fileIndex, index: stanzaIndex, message: S.invalidStanza });
          failedFiles.add(fileIndex);
          return;
        }
        candidates.push({ file: fileIndex, stanzaIndex, kind: 'piv', stanza: parsed });
      } else if (st.type === P256TAG_TYPE) {
        const parsed = parseP256Tag(st.type, st.args, st.body);
        if (parsed) candidates.push({ file: fileIndex, stanzaIndex, kind: 'tag', stanza: parsed });
      } else {
        const pq = parseMlkem768P256Tag(st);
        if (pq && 'malformed' in pq) {
          result.errors.push({ kind: 'stanza', file: fileIndex, index: stanzaIndex, message: S.invalidStanza });
          failedFiles.add(fileIndex);
        } else if (pq) candidates.push({ file: fileIndex, stanzaIndex, kind: 'tagpq', stanza: pq.ok });
      }
    });
  });

  // Each stanza matches at most one stub; order stubs by the number of matches.
  const claimed = new Set<Candidate>();
  const work = stubs
    .map(({ index, stub }) => {
      const matches = candidates.filter((c) => {
        if (claimed.has(c) || failedFiles.has(c.file)) return false;
        const hit =
          c.kind === 'piv'
            ? tagsEqual(c.stanza.tag, stub.tag)
            : c.kind === 'tag'
              ? p256TagMatchesStaticTag(c.stanza, stub.tag)
              : mlkem768P256TagMatches(c.stanza, stub.tag);
        if (hit) claimed.add(c);
        return hit;
      });
      return { index, stub, matches };
    })
    .filter((w) => w.matches.length > 0)
    .sort((a, b) => b.matches.length - a.matches.length);

  const touchedAt = new Map<number, number>();
  for (const { index, stub, matches } of work) {
    const pending = matches.filter((m) => !result.fileKeys.has(m.file) && !failedFiles.has(m.file));
    if (pending.length === 0) continue;
    let yk: YubiKey | null;
    try {
      yk = await connectOrAsk(req.readers, stub.serial, req.ui, env);
    } catch (e) {
      result.errors.push({ kind: 'identity', index, message: messageOf(e, stub.serial) });
      continue;
    }
    if (!yk) continue; // skipped by the user or by AGE_PLUGIN_YUBIKEY_SKIP_NOT_FOUND
    try {
      const slot = await readSlotForStub(yk.piv, stub.slot, stub.tag);
      if (!slot) {
        result.errors.push({ kind: 'identity', index, message: S.stubMismatch });
        continue;
      }
      await verifyPinForDecryption(yk, slot.pinPolicy, req.ui);
      const ecdh = async (peer: Uint8Array): Promise<Uint8Array> => {
        const needsTouch =
          slot.touchPolicy === 'always' ||
          (slot.touchPolicy === 'cached' && (env.now?.() ?? Date.now()) - (touchedAt.get(stub.serial) ?? -Infinity) > TOUCH_CACHE_MS);
        if (needsTouch) await req.ui.message(S.touch(stub.serial));
        try {
          const x = await yk!.piv.calculateSecret(stub.slot, KeyAlgorithm.EccP256, peer);
          touchedAt.set(stub.serial, env.now?.() ?? Date.now());
          return x;
        } catch (e) {
          if (e instanceof PivError && e.code === 'SECURITY_STATUS' && slot.touchPolicy && slot.touchPolicy !== 'never') {
            throw new YubiKeyError('TOUCH_TIMEOUT', S.touchTimeout(stub.serial), { cause: e });
          }
          throw e;
        }
      };
      let n = 0;
      for (const c of pending) {
        if (result.fileKeys.has(c.file) || failedFiles.has(c.file)) {
          n++;
          continue;
        }
        try {
          const key =
            c.kind === 'piv'
              ? await unwrapPivP256(c.stanza, slot.publicKey, ecdh)
              : c.kind === 'tag'
                ? await unwrapP256Tag(c.stanza, slot.publicKey, ecdh)
                : slot.pq
                  ? await unwrapMlkem768P256Tag(c.stanza, slot.pq, ecdh)
                  : null;
          if (!key) throw new YubiKeyError('DECRYPT_FAILED', S.decryptFailed);
          result.fileKeys.set(c.file, key);
        } catch (e) {
          if (e instanceof YubiKeyError && e.code === 'DECRYPT_FAILED') {
            result.errors.push({ kind: 'stanza', file: c.file, index: n, message: S.decryptFailed });
          } else {
            throw e;
          }
        }
        n++;
      }
    } catch (e) {
      result.errors.push({ kind: 'identity', index, message: messageOf(e, stub.serial) });
    } finally {
      result.apdus += yk.piv.protocol.apduCount;
      await yk.close(true).catch(() => undefined);
    }
  }
  return result;
}

function messageOf(e: unknown, serial: number): string {
  const t = translateTransportError(e);
  if (t instanceof TransportError) return S.removed(serial);
  if (t instanceof YubiKeyError || t instanceof PivError) return t.message;
  return `Error while communicating with YubiKey: ${(t as Error)?.message ?? String(t)}`;
}

/** Connects to the YubiKey with this serial, asking the user to insert it when it is absent. */
async function connectOrAsk(readers: CardReaders, serial: number, ui: YubiKeyUi, env: UnwrapEnvironment): Promise<YubiKey | null> {
  const open = () => openBySerial(readers, serial, env.log ? { log: env.log } : {});
  let yk = await open();
  if (yk) return yk;
  if (env.skipNotFound) {
    env.log?.(`Skipping YubiKey with serial ${serial}: not plugged in (AGE_PLUGIN_YUBIKEY_SKIP_NOT_FOUND)`);
    return null;
  }
  const interactive = typeof env.interactive === 'function' ? env.interactive() : env.interactive;
  if (interactive === false) throw new YubiKeyError('NOT_FOUND', S.noTerminal(serial));
  let question = S.insertConfirm(serial);
  for (;;) {
    let answer: boolean | 'unsupported';
    try {
      answer = await ui.confirm(question, S.insertYes, S.insertNo);
    } catch (cause) {
      throw new YubiKeyError('NOT_FOUND', S.openFailed(serial), { cause });
    }
    if (answer === false) return null;
    if (answer === 'unsupported') {
      await ui.message(question);
      const sleep = env.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
      for (let i = 0; i < 15; i++) {
        await sleep(1000);
        yk = await open();
        if (yk) return yk;
      }
      throw new YubiKeyError('NOT_FOUND', S.insertTimeout(serial));
    }
    // pcscd notices a new card within one or two 400 ms polls: give it a moment before asking again.
    const sleep = env.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    for (let i = 0; i < 10; i++) {
      yk = await open();
      if (yk) return yk;
      await sleep(300);
    }
    question = S.insertRetry(serial);
  }
}

