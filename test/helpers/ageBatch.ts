/**
 * Decrypting files one `age -d` process at a time, on a pty (age reads plugin PINs from
 * /dev/tty), answering a PIN prompt whenever it appears and counting how often it did: what a
 * batch of sops/agenix decryptions looks like to the user. Shared by the agent's e2e test and
 * bench/agent.ts. The PIN travels through the environment (PTY_SEND_1), never argv.
 */
import { ROOT, run } from './run.ts';

const PTY = `${ROOT}scripts/pty-run.py`;
/** The PIN prompts of the token families the agent serves (YubiKey, Pico HSM, fido2-hmac, fido2prf). */
export const PIN_PROMPT = /Enter PIN for (?:YubiKey with serial \d+|Pico HSM with key "[^"\n]{0,64}")|Please enter your PIN for FIDO2 key at [\w.:[\]-]{1,64}:|Enter the security key PIN for FIDO2 key at [\w.:[\]-]{1,64}:/g;

export interface Decryption {
  code: number | null;
  /** How many times the PIN was asked. */
  prompts: number;
  ms: number;
  /** The terminal transcript (prompts, messages, plaintext). */
  out: string;
}

/**
 * `pin`: the answer to each PIN prompt, or the answers in order; `answers`: how many prompts to
 * answer with a single `pin` (more are left unanswered until the timeout).
 */
export async function decryptOnPty(env: NodeJS.ProcessEnv, identityFile: string, file: string, pin: string | readonly string[], timeoutSec = 30, answers = 1): Promise<Decryption> {
  const t = process.hrtime.bigint();
  const pins = typeof pin === 'string' ? Array<string>(answers).fill(pin) : pin;
  const steps: string[] = [];
  const sends: NodeJS.ProcessEnv = {};
  pins.forEach((p, i) => {
    steps.push('--expect', PIN_PROMPT.source, '--send', '@env');
    sends[`PTY_SEND_${i + 1}`] = p;
  });
  const r = await run('/usr/bin/python3', [PTY, '--timeout', String(timeoutSec), ...steps, '--', 'age', '-d', '-i', identityFile, file], {
    env: { ...env, ...sends },
    noTty: true,
    timeoutMs: (timeoutSec + 10) * 1000,
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  return { code: r.code, prompts: r.stdout.match(PIN_PROMPT)?.length ?? 0, ms, out: r.stdout };
}
