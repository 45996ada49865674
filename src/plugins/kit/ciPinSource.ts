/**
 * The opt-in PIN source for headless use (CI, provisioning scripts): the PIN comes from a file
 * descriptor (`KEYBRIDGE_PIN_FD=N`, e.g. a pipe from the CI's secret store) or from a file
 * (`KEYBRIDGE_PIN_FILE=PATH`) that only its owner can read (mode 0600 or 0400, a regular file,
 * not a symlink); never from argv or the environment itself. It is read once per process, one
 * line, at most 256 bytes; a file with a wider mode is refused, not used. Like every
 * non-interactive source it is asked once per PIN loop, so a wrong PIN is never retried from it.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { PinSourceError, type PinSource } from './pinSource.ts';

export const PIN_FD_ENV = 'KEYBRIDGE_PIN_FD';
export const PIN_FILE_ENV = 'KEYBRIDGE_PIN_FILE';
const MAX_PIN_BYTES = 256;

export class CiPinError extends PinSourceError {
  constructor(message: string) {
    super(message);
    this.name = 'CiPinError';
  }
}

function readBounded(fd: number, what: string): string {
  const buf = Buffer.alloc(MAX_PIN_BYTES + 1);
  let n = 0;
  try {
    for (;;) {
      const k = readSync(fd, buf, n, buf.length - n, null);
      if (k === 0) break;
      n += k;
      if (n > MAX_PIN_BYTES) throw new CiPinError(`${what} holds more than ${MAX_PIN_BYTES} bytes; it must hold only the PIN`);
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, n));
    } catch {
      throw new CiPinError(`${what} is not UTF-8 text`);
    }
    const line = text.replace(/\r?\n$/, '');
    if (line.includes('\n')) throw new CiPinError(`${what} holds more than one line; it must hold only the PIN`);
    if (line === '') throw new CiPinError(`${what} is empty`);
    return line;
  } finally {
    buf.fill(0);
  }
}

/** Reads the PIN the environment points at; undefined when neither variable is set. */
export function readCiPin(env: NodeJS.ProcessEnv): string | undefined {
  const fdText = env[PIN_FD_ENV];
  const file = env[PIN_FILE_ENV];
  if (fdText !== undefined && file !== undefined) throw new CiPinError(`set only one of ${PIN_FD_ENV} and ${PIN_FILE_ENV}`);
  if (fdText !== undefined) {
    if (!/^\d{1,4}$/.test(fdText) || Number(fdText) < 3) throw new CiPinError(`${PIN_FD_ENV}=${fdText.slice(0, 16)}: expected a file descriptor number of 3 or more`);
    const fd = Number(fdText);
    let st;
    try {
      st = fstatSync(fd);
    } catch {
      throw new CiPinError(`${PIN_FD_ENV}=${fd}: that file descriptor is not open`);
    }
    if (st.isCharacterDevice()) throw new CiPinError(`${PIN_FD_ENV}=${fd} is a terminal; pass a pipe or a file`);
    try {
      return readBounded(fd, `${PIN_FD_ENV}=${fd}`);
    } finally {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
  }
  if (file !== undefined) {
    let fd: number;
    try {
      fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CiPinError(code === 'ELOOP' ? `${PIN_FILE_ENV}: ${file} is a symbolic link; name the file itself` : `${PIN_FILE_ENV}: cannot open ${file} (${code ?? 'error'})`);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new CiPinError(`${PIN_FILE_ENV}: ${file} is not a regular file`);
      if ((st.mode & 0o077) !== 0) {
        throw new CiPinError(`${PIN_FILE_ENV}: ${file} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}; it must be readable by you only (chmod 600 ${file})`);
      }
      const uid = process.getuid?.();
      if (uid !== undefined && st.uid !== uid) throw new CiPinError(`${PIN_FILE_ENV}: ${file} belongs to uid ${st.uid}, not to you`);
      return readBounded(fd, `${PIN_FILE_ENV} ${file}`);
    } finally {
      closeSync(fd);
    }
  }
  return undefined;
}

/** The source for the kit's PIN chain; `warn` gets the reason a configured source was refused. */
export function ciPinSource(env: NodeJS.ProcessEnv, warn: (line: string) => void): PinSource {
  let cached: { pin?: string; error?: CiPinError } | undefined;
  return {
    interactive: false,
    async pin() {
      if (!cached) {
        try {
          const pin = readCiPin(env);
          cached = pin === undefined ? {} : { pin };
        } catch (e) {
          cached = { error: e instanceof CiPinError ? e : new CiPinError('the CI PIN source failed') };
          warn(cached.error!.message);
        }
      }
      if (cached.error) throw cached.error;
      return cached.pin;
    },
  };
}
