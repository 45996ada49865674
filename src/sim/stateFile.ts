/**
 * The persistent state of a virtual token: one JSON object in a 0600 file, read once at start
 * and written atomically (serialised) after each change, so a crash never leaves half a file.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../fs/atomicWrite.ts';

/** The parsed JSON of a state file, or null when it does not exist. */
export function readStateFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${path} is not a ${what} state file (not JSON)`);
  }
}

export class JsonStateStore<T> {
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly state: T,
    private readonly path?: string,
  ) {}

  /** Persists the state (writes are serialised; each is atomic, 0600). */
  save(): Promise<void> {
    if (!this.path) return Promise.resolve();
    const path = this.path;
    const text = JSON.stringify(this.state, null, 1) + '\n';
    this.writing = this.writing.catch(() => undefined).then(() => writeFileAtomic(path, text, { secret: true, backup: false }));
    return this.writing;
  }
}
