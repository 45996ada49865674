/**
 * The virtual FIDO2 authenticator kept honest by an independent client: Debian's python-fido2
 * 0.9.1 over the Pico FIDO TCP framing (test/helpers/fido2_tcp.py) runs getInfo, setPIN,
 * makeCredential with hmac-secret, getAssertion with one and two salts with and without the PIN
 * under PIN/UV auth protocols 1 and 2, verifies the attestation and assertion signatures, and
 * exercises the retry counters.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, statSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect } from 'vitest';
import { startVirtualFido2 } from '../../src/sim/fido2/server.ts';
import { itWith, type Tool } from '../helpers/tools.ts';
import { spawn } from 'node:child_process';
import { DIST } from '../helpers/run.ts';

const PY = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, '../helpers/fido2_tcp.py');

function pythonFido2(): Tool {
  try {
    execFileSync(PY, ['-c', 'import fido2, cryptography'], { stdio: 'ignore' });
    return { name: 'python3-fido2', path: PY, missing: undefined };
  } catch {
    return { name: 'python3-fido2', path: undefined, missing: 'python3-fido2 is not installed for /usr/bin/python3 (apt-get install python3-fido2)' };
  }
}

const itPy = itWith([pythonFido2()]);
const dir = mkdtempSync(join(tmpdir(), 'kb-fido2-sim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function py(endpoint: string, ...args: string[]): Promise<any> {
  const { stdout } = await promisify(execFile)(PY, [SCRIPT, endpoint, ...args], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(stdout);
}

describe('virtual FIDO2 authenticator with python-fido2 0.9.1', () => {
  itPy('getInfo, setPIN, makeCredential + hmac-secret, getAssertion with one/two salts, PIN protocols 1 and 2, signatures', async () => {
    const statePath = join(dir, 'a.json');
    const v = await startVirtualFido2({ port: 0, statePath });
    try {
      const out = await py(v.endpoint!, '1234');
      expect(out.ping).toBe('hello keybridge');
      expect(out.info.versions).toEqual(['FIDO_2_0', 'FIDO_2_1']);
      expect(out.info.extensions).toEqual(['hmac-secret']);
      expect(out.info.pin_uv_protocols).toEqual([2, 1]);
      expect(out.info.options.clientPin).toBe(false);
      expect(out.pin_set).toBe(true);
      expect(out.clientPin_after).toBe(true);
      expect(out.retries).toBe(8);
      expect(out.wrong_pin).toBe('PIN_INVALID');
      expect(out.retries_after_wrong).toBe(7);
      expect(out.retries_after_ok).toBe(8);
      expect(out.make.fmt).toBe('packed');
      expect(out.make.attestation_type).toBe('SELF');
      expect(out.make.hmac_ext).toBe(true);
      // UP | UV | AT | ED
      expect(out.make.flags).toBe(0x01 | 0x04 | 0x40 | 0x80);
      const a = out.assertions;
      for (const k of Object.keys(a)) expect(a[k].signature_verified).toBe(true);
      // Both PIN protocols transport the same secret.
      for (const pin of ['pin', 'nopin']) for (const n of ['one', 'two']) expect(a[`p1_${pin}_${n}`]).toEqual(a[`p2_${pin}_${n}`]);
      // The first output does not depend on a second salt being asked.
      expect(a.p1_pin_two.output1).toBe(a.p1_pin_one.output1);
      expect(a.p1_nopin_two.output1).toBe(a.p1_nopin_one.output1);
      expect(a.p1_nopin_two.output2).not.toBe(a.p1_nopin_two.output1);
      // Separate CredRandom with and without UV.
      expect(a.p1_pin_one.output1).not.toBe(a.p1_nopin_one.output1);
      expect(a.p1_pin_two.output2).not.toBe(a.p1_nopin_two.output2);
      expect(a.p1_pin_one.flags).toBe(0x01 | 0x04 | 0x80);
      expect(a.p1_nopin_one.flags).toBe(0x01 | 0x80);
      // EdDSA and RS256 credentials, verified by python-fido2's COSE classes.
      expect(out.info_algorithms).toEqual([-7, -8, -257]);
      expect(out.algorithms['-8']).toEqual({ key_alg: -8, key_type: 'EdDSA', att_alg: -8, attestation_type: 'SELF', hmac_len: 32, other_cdh: 'rejected' });
      expect(out.algorithms['-257']).toEqual({ key_alg: -257, key_type: 'RS256', att_alg: -257, attestation_type: 'SELF', hmac_len: 32, other_cdh: 'rejected' });
      // The first supported entry of the RP's list is used.
      expect(out.algorithms.preference).toBe(-257);
      expect(out.probe_flags).toBe(0);
      expect(out.foreign_probe).toBe('NO_CREDENTIALS');
    } finally {
      await v.stop();
    }
    expect(statSync(statePath).mode & 0o777).toBe(0o600);
    const state = JSON.parse(readFileSync(statePath, 'utf8'));
    expect(state.pinRetries).toBe(8);
    expect(state.pinHash).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(state)).not.toContain('1234');
  });

  itPy('three wrong PINs in a row block PIN auth until a power cycle; retries persist; eight block the PIN', async () => {
    const statePath = join(dir, 'b.json');
    let v = await startVirtualFido2({ port: 0, statePath });
    try {
      await py(v.endpoint!, '4321'); // sets the PIN, spends one wrong try, then succeeds
      const r1 = await py(v.endpoint!, '4321', '3');
      expect(r1.wrong).toEqual(['PIN_INVALID', 'PIN_INVALID', 'PIN_AUTH_BLOCKED']);
      expect(r1.right_pin_then).toBe('PIN_AUTH_BLOCKED');
      expect(r1.retries).toBe(5);
    } finally {
      await v.stop();
    }
    // Restarting the process is a power cycle; the counter survives in the state file.
    v = await startVirtualFido2({ port: 0, statePath });
    try {
      const r2 = await py(v.endpoint!, '4321', '2');
      expect(r2.wrong).toEqual(['PIN_INVALID', 'PIN_INVALID']);
      expect(r2.right_pin_then).toBe('accepted');
      expect(r2.retries).toBe(8);
      v.plugIn();
      v.unplug();
      v.plugIn();
      const r3 = await py(v.endpoint!, '4321', '2');
      expect(r3.retries).toBe(8);
      // Power cycles between bursts of wrong PINs until the counter runs out.
      let last: any;
      for (let i = 0; i < 4; i++) {
        v.unplug();
        v.plugIn();
        last = await py(v.endpoint!, '4321', '2', 'wrong-only');
      }
      expect(last.wrong).toEqual(['PIN_INVALID', 'PIN_BLOCKED']);
      expect(last.retries).toBe(0);
      v.unplug();
      v.plugIn();
      const blocked = await py(v.endpoint!, '4321', '0');
      expect(blocked.right_pin_then).toBe('PIN_BLOCKED');
    } finally {
      await v.stop();
    }
  });
});

describe('keybridge sim fido2', () => {
  const bin = join(DIST, 'keybridge.mjs');
  itPy('listens with the Pico framing until SIGINT, keeps its state 0600; python-fido2 talks to it', async () => {
    const statePath = join(dir, 'cli.json');
    const child = spawn(process.execPath, [bin, 'sim', 'fido2', '--port', '0', '--state', statePath, '--name', 'CI key'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no endpoint announced: ${err}`)), 20_000);
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /export KEYBRIDGE_FIDO2_TCP=(\S+)/.exec(err);
        if (m && err.includes('Ctrl-C to unplug')) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on('exit', () => reject(new Error(`sim exited: ${err}`)));
    });
    expect(err).toContain(`virtual FIDO2 key "CI key" listening on ${endpoint}`);
    const r = await py(endpoint, '1234', '1');
    expect(r.wrong).toEqual(['PIN_NOT_SET']);
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    expect(code).toBe(0);
    expect(err).toContain('virtual FIDO2 key unplugged');
    expect(statSync(statePath).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(statePath, 'utf8')).name).toBe('CI key');
  });
});
