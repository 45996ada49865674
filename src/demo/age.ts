/**
 * What every family's demo step does with age and its plugin: put the bundled plugin on PATH,
 * generate an identity with it, encrypt with the real `age`, and decrypt with `age -d` on a
 * terminal the demo types the PIN into. Secrets never reach the report: the PIN is masked and
 * identities are shown only as the family's step decides.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DemoStepError, exec } from './exec.ts';
import { distDir } from './paths.ts';
import type { DemoReport } from './report.ts';

/** The environment that finds the bundled `plugin` (dist/PLUGIN.mjs linked into DIR/bin) on PATH. */
export function pluginEnv(dir: string, plugin: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  if (!existsSync(join(bin, plugin))) symlinkSync(join(distDir(), `${plugin}.mjs`), join(bin, plugin));
  return { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, ...extra };
}

export interface Generate {
  /** The plugin's command line (its first word is the plugin). */
  argv: string[];
  /** Says what the demo types in `input`. */
  note: string;
  input: string;
  env: NodeJS.ProcessEnv;
  /** Where the identity file is written (0600). */
  file: string;
  /** The recipient in the plugin's output (group 1), and what it is called when it is missing. */
  recipient: RegExp;
  recipientName?: string;
  /** What of the output the report shows (default: all of it). */
  show?: (block: string) => string;
}

/** Runs the plugin's generate command; returns the recipient. */
export async function generateIdentity(report: DemoReport, g: Generate): Promise<string> {
  report.command(g.argv);
  report.info(g.note);
  const generated = await exec(g.argv[0]!, g.argv.slice(1), { env: g.env, noTty: true, input: g.input });
  const block = generated.stdout.toString();
  writeFileSync(g.file, block, { mode: 0o600 });
  report.info(g.show ? g.show(block) : block);
  const recipient = g.recipient.exec(block)?.[1];
  if (!recipient) throw new DemoStepError(`${g.argv[0]} printed no ${g.recipientName ?? 'recipient'}`);
  return recipient;
}

/** Writes DIR/NAME with `text`, encrypts it to `recipient` with the real age CLI into DIR/NAME.age, and shows the header stanza starting with `stanza`. */
export async function ageEncrypt(report: DemoReport, e: { dir: string; name: string; text: string; recipient: string; env: NodeJS.ProcessEnv; stanza: string }): Promise<string> {
  const plain = join(e.dir, e.name);
  const encrypted = `${plain}.age`;
  writeFileSync(plain, e.text);
  const enc = ['age', '-r', e.recipient, '-o', encrypted, plain];
  report.command(enc);
  await exec(enc[0]!, enc.slice(1), { env: e.env });
  const header = readFileSync(encrypted, 'latin1').split('\n').find((l) => l.startsWith(e.stanza));
  report.info(`header stanza: ${header}`);
  return encrypted;
}

/**
 * Runs `age -d -i IDENTITY FILE` on a pty, typing `pin` at the plugin's PIN prompt (the first
 * line holding `prompt`), and shows the transcript with the PIN masked; fails unless it holds
 * `expected`.
 */
export async function ageDecrypt(report: DemoReport, d: { identity: string; file: string; pin: string; env: NodeJS.ProcessEnv; expected: string; prompt?: string }): Promise<void> {
  const prompt = d.prompt ?? 'Enter PIN';
  const dec = ['age', '-d', '-i', d.identity, d.file];
  report.command(dec);
  const out = await exec('python3', [join(distDir(), '..', 'scripts', 'pty-run.py'), '--timeout', '30', '--expect', prompt, '--send', '@env', '--', ...dec], {
    env: { ...d.env, PTY_SEND_1: d.pin },
    noTty: true,
  });
  const transcript = out.stdout.toString().replace(/\r/g, '').replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
  if (!transcript.includes(d.expected)) throw new DemoStepError(`decryption through the plugin failed:\n${transcript}`);
  report.info(
    transcript
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => (l.includes(prompt) ? `${l.trim()} ******` : l))
      .join('\n'),
  );
}
