/**
 * APDU round-trip time through pcsclite → pcscd → vpcd → the virtual YubiKey, with and without
 * the TCP_NODELAY preload. Needs root and pcscd/vpcd (as the tests do).
 */
import { startRig, rigUnavailableReason } from '../src/rig/pcscd.ts';
import { startVirtualYubiKey } from '../src/sim/yubikey/card.ts';
import { openPcsc } from '../src/transport/pcsc.ts';
import { PivSession } from '../src/tokens/piv/session.ts';

const reason = rigUnavailableReason();
if (reason) {
  console.log(`SKIP bench/apdu: ${reason}`);
  process.exit(0);
}

async function measure(nodelay: boolean, n: number): Promise<number> {
  const rig = await startRig({ nodelay });
  const yk = await startVirtualYubiKey({ port: rig.ports[0], serial: 1 });
  await rig.waitForCard(0, 'present');
  const readers = await openPcsc();
  try {
    const [name] = await readers.list();
    const t = await readers.connect(name!);
    const piv = new PivSession(t);
    await piv.select();
    for (let i = 0; i < 10; i++) await piv.protocol.sendRaw(0, 0xfd, 0, 0);
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await piv.protocol.sendRaw(0, 0xfd, 0, 0);
    const us = Number(process.hrtime.bigint() - start) / 1000 / n;
    await t.close();
    return us;
  } finally {
    await readers.close();
    await yk.stop();
    await rig.stop();
  }
}

const fast = await measure(true, 2000);
console.log(`APDU round trip (GET VERSION) with the TCP_NODELAY preload: ${fast.toFixed(0)} µs/APDU (${(1e6 / fast).toFixed(0)} APDUs/s)`);
const slow = await measure(false, 40);
console.log(`without the preload (pcscd's Nagle + delayed ACK):         ${slow.toFixed(0)} µs/APDU`);
console.log(`preload speed-up: ${(slow / fast).toFixed(0)}x`);
