/**
 * Records fuzz/corpus/schsm-answers.txt: the answers a virtual Pico HSM gives to what a plugin
 * does (select, PIN status and VERIFY, key generation, key descriptions, data objects, listing,
 * public keys, serial, ECDH, delete), the seeds of the schsm-session fuzz target.
 *
 *   npx tsx fuzz/record-schsm.ts
 */
import { writeFileSync } from 'node:fs';
import { inProcessReaders } from '../src/sim/inProcess.ts';
import { DEFAULT_PIN, DEFAULT_SO_PIN, VirtualPicoHsm } from '../src/sim/picohsm/card.ts';
import { ScHsmSession } from '../src/tokens/schsm/session.ts';
import { PEER_P256, PEER_X25519, PQ_SEED, PRKD } from './targets/schsmInputs.ts';

/** The answers a virtual Pico HSM gives to what a plugin does (data and status word). */
export async function recordedAnswers(): Promise<Uint8Array[]> {
  const hsm = new VirtualPicoHsm({ port: 0, serial: 'ESPH0000042' });
  await hsm.initialiseWith(DEFAULT_PIN, DEFAULT_SO_PIN);
  const inner = await inProcessReaders({ R: hsm }).connect('R');
  const answers: Uint8Array[] = [];
  const session = new ScHsmSession({
    async transmit(c) {
      const r = await inner.transmit(c);
      answers.push(Uint8Array.from(r));
      return r;
    },
    close: (leave) => inner.close(leave),
  });
  await session.select();
  await session.pinStatus();
  await session.verifyPin('000000').catch(() => undefined);
  await session.verifyPin(DEFAULT_PIN);
  await session.pinStatus();
  await session.generateKey(1, 'p256', { chr: 'KBAGE00001', algorithms: [0x80] });
  await session.generateKey(2, 'x25519', { chr: 'KBAGE00002' });
  await session.writeKeyDescription(1, PRKD);
  await session.writeFile(PQ_SEED, new Uint8Array(70).fill(0x5a));
  await session.listKeyIds();
  await session.readPublicKey(1);
  await session.readPublicKey(2);
  await session.readKeyDescription(1);
  await session.readKeyDescription(0);
  await session.readFile(PQ_SEED);
  await session.serial();
  await session.ecdh(1, PEER_P256);
  await session.ecdh(2, PEER_X25519);
  await session.deleteKey(2);
  await session.ecdh(2, PEER_X25519).catch(() => undefined);
  await inner.close();
  return answers;
}

const recorded = await recordedAnswers();

const answers = await recordedAnswers();
writeFileSync(new URL('corpus/schsm-answers.txt', import.meta.url), answers.map((a) => `${Buffer.from(a).toString('hex')}\n`).join(''));
console.log(`${answers.length} answers recorded`);
