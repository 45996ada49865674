/**
 * A virtual token's persistent state as a JSON file: loaded once, written atomically (0600, no
 * backup) after every change, writes serialised. Shared by the virtual tokens that need no more
 * than "this object survives unplugging".
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../fs/atomicWrite.ts';

export class JsonStateFile<T> {
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly state: T,
    private readonly path?: string,
  ) {}

  /** Reads `path`; null when it does not exist. `check` rejects files of another kind. */
  static read<T>(path: string, check: (v: unknown) => v is T, what: string): T | null {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw new Error(`${path} is not a ${what} state file (not JSON)`);
    }
    if (!check(v)) throw new Error(`${path} is not a ${what} state file`);
    return v;
  }

  /** Persists the state (each write atomic and 0600; writes are serialised). */
  save(): Promise<void> {
    if (!this.path) return Promise.resolve();
    const path = this.path;
    const text = JSON.stringify(this.state, null, 1) + '\n';
    this.writing = this.writing.catch(() => undefined).then(() => writeFileAtomic(path, text, { secret: true, backup: false }));
    return this.writing;
  }
}
