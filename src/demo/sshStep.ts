/**
 * Demo step: a host's SSH key becomes an age recipient, and the host's private key decrypts
 * what the real `age` encrypted to it.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sshPublicKeyToAgeRecipient } from '../ssh/lines.ts';
import { keybridgeArgv } from './paths.ts';
import { writeFileAtomic } from '../fs/atomicWrite.ts';
import { exec, DemoStepError } from './exec.ts';
import type { DemoReport } from './report.ts';

export interface SshStepResult {
  hostKeyPub: string;
  recipient: string;
}

export async function sshStep(dir: string, report: DemoReport): Promise<SshStepResult> {
  report.heading('Convert an SSH host key to an age recipient (ssh-to-age)');
  const keyPath = join(dir, 'ssh_host_ed25519_key');
  const keygen = ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'root@demo-host', '-f', keyPath];
  report.command(keygen);
  await exec(keygen[0]!, keygen.slice(1));
  const hostKeyPub = (await readFile(`${keyPath}.pub`, 'utf8')).trim();

  const [node, kb] = keybridgeArgv();
  report.command(['keybridge', 'ssh-to-age', '-i', `${keyPath}.pub`]);
  const recipient = (await exec(node, [kb, 'ssh-to-age', '-i', `${keyPath}.pub`])).stdout.toString('utf8').trim();
  if (recipient !== sshPublicKeyToAgeRecipient(hostKeyPub)) throw new DemoStepError('CLI and library disagree');
  report.info(recipient);

  report.command(['keybridge', 'ssh-to-age', '-private-key', '-i', keyPath, '-o', `${keyPath}.age`]);
  await exec(node, [kb, 'ssh-to-age', '-private-key', '-i', keyPath, '-o', `${keyPath}.age`]);
  const mode = (await stat(`${keyPath}.age`)).mode & 0o777;
  report.info(`identity written to ${keyPath}.age (mode ${mode.toString(8).padStart(4, '0')})`);

  const plain = join(dir, 'host-secret.txt');
  const enc = `${plain}.age`;
  await writeFileAtomic(plain, 'database password for demo-host\n');
  const ageEnc = ['age', '-r', recipient, '-o', enc, plain];
  report.command(ageEnc);
  await exec(ageEnc[0]!, ageEnc.slice(1));
  const ageDec = ['age', '-d', '-i', `${keyPath}.age`, enc];
  report.command(ageDec);
  const { stdout } = await exec(ageDec[0]!, ageDec.slice(1));
  if (stdout.toString('utf8') !== 'database password for demo-host\n') {
    throw new DemoStepError('decrypted text differs from the original');
  }
  report.ok('age decrypted the file with the identity converted from the SSH host key');
  const keygenY = ['age-keygen', '-y', `${keyPath}.age`];
  report.command(keygenY);
  const y = (await exec(keygenY[0]!, keygenY.slice(1))).stdout.toString('utf8').trim();
  if (y !== recipient) throw new DemoStepError(`age-keygen -y gives ${y}, expected ${recipient}`);
  report.ok('age-keygen -y of the converted identity equals the converted recipient');
  return { hostKeyPub, recipient };
}
