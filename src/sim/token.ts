/**
 * What a virtual token contributes to `keybridge sim`, `keybridge rig` and users' CI: its name,
 * how its real counterpart appears to clients (the PC/SC reader name and the vpcd port pair), its
 * own options, and how to start it. Each `src/sim/X/token.ts` exports one as `token`; the
 * registry (tokens.ts) discovers them.
 */
import { FlagError } from '../term/flags.ts';
import type { OptionDef, OptionDefs } from '../term/spec.ts';
import type { PresenceBehaviour } from './pluggedCard.ts';

export interface VirtualTokenKind {
  /** `keybridge sim NAME`, `keybridge rig --NAME`. */
  readonly name: string;
  /** One line for listings. */
  readonly summary: string;
  /** PC/SC tokens: the vpcd reader named like the real device's, on ports `port` and `port + 1`. */
  readonly reader?: { name: string; port: number };
  /** Tokens reached over TCP instead of vpcd (HID over the Pico FIDO framing): the default port. */
  readonly tcp?: { port: number };
  /** The whole `keybridge sim NAME --help` text. */
  readonly help: string;
  /** Options of `keybridge sim NAME` besides --port, --host and --help (described: completions, man page). */
  readonly flags: OptionDefs;
  /** The options `keybridge rig --NAME` passes on (a subset of `flags`). */
  readonly rigFlags: readonly string[];
  /**
   * Starts the token plugged into vpcd `port` (already validated). `values` are the parsed
   * `flags`; bad values throw a `FlagError` (a usage error), other failures an Error.
   */
  start(values: Record<string, string | boolean | undefined>, at: { port: number; host?: string; log: (line: string) => void }): Promise<RunningToken>;
}

export interface RunningToken {
  /** "virtual YubiKey" */
  readonly label: string;
  /** "5.7.1" (firmware), when there is one. */
  readonly version?: string;
  /** "serial 12345678": what tells this one apart. */
  readonly id: string;
  /** Where clients reach it, when that is not a vpcd port ("listening on 127.0.0.1:35962"). */
  readonly where?: string;
  stop(): Promise<void>;
}

/** The `--state FILE` option of a token that persists: what it keeps there. */
export function stateFlag(keeps: string): OptionDef {
  return { type: 'string', value: 'FILE', complete: 'file', description: `keep ${keeps} in FILE (created 0600)` };
}

type FlagValue = string | boolean | undefined;

/** A string option's value; undefined when it was not given. */
export function stringFlag(v: FlagValue): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * A user-presence option (`--touch`, `--button`): one of `words`, or the milliseconds (up to ten
 * minutes) after which a request times out; undefined when it was not given.
 */
export function presenceFlag<W extends string>(name: string, v: FlagValue, words: readonly W[]): W | { timeoutMs: number } | undefined {
  if (v === undefined || (words as readonly FlagValue[]).includes(v)) return v as W | undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) > 600_000) throw new FlagError('rule', `--${name} needs ${words.join(', ')} or a number of milliseconds up to 600000`);
  return { timeoutMs: Number(v) } satisfies PresenceBehaviour;
}
