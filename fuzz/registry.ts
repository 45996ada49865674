/**
 * The fuzz targets: each one feeds generated hostile input to one parser or state machine through
 * its public API and says which errors are documented. Anything else thrown — a TypeError, a
 * RangeError, an error without its stable code — is a crash; a case that does not finish within
 * the target's time limit is a hang; messages longer than the bound are unbounded echoes.
 *
 * To add a target: write `fuzz/targets/NAME.ts` calling `registerTarget({...})` and import it from
 * fuzz/targets/index.ts. `npm run fuzz` runs it with the others; test/fuzz.test.ts runs a
 * fixed-seed slice of every registered target in `npm test`.
 */
import type { Arbitrary } from 'fast-check';

export interface FuzzTarget<T = unknown> {
  /** Short name, used by `npm run fuzz -- --target NAME`. */
  readonly name: string;
  /** What it covers, one line. */
  readonly description: string;
  /** Generated inputs: a mix of well-formed, mutated and random ones. */
  readonly input: Arbitrary<T>;
  /** Runs one case; throws only documented errors. May return a promise. */
  run(input: T): void | Promise<void>;
  /** Whether an error thrown by `run` is one the API documents (typed, with a stable code). */
  documented(error: unknown): boolean;
  /** Cases in a full run (default 100,000). */
  readonly cases?: number;
  /** A case taking longer than this (ms) is a hang (default 5,000). */
  readonly timeoutMs?: number;
}

const targets: FuzzTarget<never>[] = [];

export function registerTarget<T>(target: FuzzTarget<T>): void {
  if (targets.some((t) => t.name === target.name)) throw new Error(`fuzz target ${target.name} registered twice`);
  targets.push(target as unknown as FuzzTarget<never>);
}

export function registeredTargets(): readonly FuzzTarget<unknown>[] {
  return targets as unknown as FuzzTarget<unknown>[];
}

/** Longest message a documented error may carry (messages quote input only as an excerpt). */
export const MAX_MESSAGE = 400;

/** A documented error whose message is bounded. */
export function boundedError(e: unknown, ...classes: (abstract new (...a: never[]) => Error)[]): boolean {
  return classes.some((c) => e instanceof c) && (e as Error).message.length <= MAX_MESSAGE;
}

export class FuzzFailure extends Error {
  constructor(
    readonly target: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${target}: ${message}`, options);
    this.name = 'FuzzFailure';
  }
}

/** Runs one case of a target: a hang or an undocumented error becomes a FuzzFailure. */
export async function runCase<T>(target: FuzzTarget<T>, input: T): Promise<void> {
  const limit = target.timeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  const start = performance.now();
  try {
    const result = target.run(input);
    // A synchronous case cannot be interrupted: one that took longer than the limit is a hang.
    if (!(result instanceof Promise) && performance.now() - start > limit) throw new FuzzFailure(target.name, `a case took ${Math.round(performance.now() - start)} ms, more than ${limit} ms (hang)`);
    if (result instanceof Promise) {
      await Promise.race([
        result,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new FuzzFailure(target.name, `a case did not finish within ${limit} ms (hang)`)), limit);
        }),
      ]);
    }
  } catch (e) {
    if (e instanceof FuzzFailure) throw e;
    if (!target.documented(e)) {
      const what = e instanceof Error ? `${e.name}: ${e.message.slice(0, 300)}${e.message.length > 300 ? `… (${e.message.length} characters)` : ''}` : String(e);
      throw new FuzzFailure(target.name, `undocumented error ${what}`, { cause: e });
    }
  } finally {
    clearTimeout(timer);
  }
}
