/**
 * What a token family implements to become an age plugin on the kit (the kit's `PluginHandler`,
 * after rage's `age-plugin` crate). The kit owns the protocol, the engines (stanza matching,
 * device order, absent devices, PIN loop, error reporting) and the texts' mechanics; a family
 * supplies its formats, its device access, its card operation and its texts.
 *
 * The card operation (`unwrap`) gets everything it may need from the user as injected callbacks
 * (`TokenContext`): no globals, no terminal, no process state. The same family code therefore runs
 * in the plugin process or inside an agent that relays the prompts back through the plugin.
 */
import type { PluginUi } from '../../age/plugin/ui.ts';
import type { Stanza } from '../../age/stanza.ts';
import type { PinSource } from './pinSource.ts';

/** The device an identity lives on, as the kit groups, orders and names devices. */
export interface DeviceRef {
  /** Stable identity of the device within the family (e.g. the serial number). */
  key: string;
  /** How texts name it (e.g. `12345678` in "YubiKey with serial 12345678"). */
  label: string;
}

/** An opened device; the kit closes it when it is done with it. */
export interface OpenDevice {
  close(): Promise<void>;
  /**
   * The device as it was found, when texts should name it rather than the ref asked for (a FIDO2
   * key located by a silent probe for a credential): PIN prompts and the touch message use it.
   */
  readonly ref?: DeviceRef;
  /** Command APDUs (or HID messages) sent so far, for figures. */
  readonly operations?: number;
}

/** Per-run access to the family's devices (opened lazily; released by the kit at the end). */
export interface DeviceAccess<D extends OpenDevice> {
  /** Opens the device `ref` names; null when it is not plugged in. */
  open(ref: DeviceRef, log?: (line: string) => void): Promise<D | null>;
  /** Releases the reader system. */
  release(): Promise<void>;
}

/**
 * The family's user-facing texts that the kit shows on its behalf. Each family keeps all of its
 * texts in one module (its `strings.ts`) and hands the kit this view of them.
 */
export interface KitTexts {
  invalidRecipient: string;
  invalidIdentity: string;
  invalidStanza: string;
  decryptFailed: string;
  /** Absent device: the `confirm` question, the retry question, its two answers. */
  insertConfirm(device: string): string;
  insertRetry(device: string): string;
  insertYes: string;
  insertNo: string;
  /** Gave up waiting for an inserted device (clients without `confirm`). */
  insertTimeout(device: string): string;
  /** The client could not ask about the absent device. */
  openFailed(device: string): string;
  /** Absent device and no terminal to ask on. */
  noTerminal(device: string): string;
  /** Debug line when the skip-not-found variable skipped a device. */
  skipped(device: string): string;
  pinPrompt(device: string): string;
  pinRequired(device: string): string;
  /** Prefix of the next prompt after a wrong PIN (the kit appends ". "). */
  pinInvalid(retriesLeft: number): string;
  pinLastRetry(device: string): string;
  pinBlocked(device: string): string;
  touch(device: string): string;
  touchTimeout(device: string): string;
  removed(device: string): string;
  readerBusy(reader: string): string;
  unavailable: string;
}

/** What a card operation may use: the user (relayed), PIN sources, a clock. */
export interface TokenContext {
  /** The device this operation runs on. */
  readonly device: DeviceRef;
  /** `msg`, `confirm`, `request-secret` towards the user (through the age client, or an agent's relay). */
  readonly ui: PluginUi;
  /**
   * Verifies the PIN with the kit's PIN loop: PIN sources in order (agent, CI, the user), retries
   * shown, the last try never spent, blocked PINs reported with the family's texts.
   */
  verifyPin(target: PinTarget, opts?: { once?: boolean }): Promise<void>;
  /** Tells the user to touch the device (the family's touch text). */
  touch(): Promise<void>;
  now(): number;
  log(line: string): void;
}

/**
 * What recipient-v1 gives a family whose wraps need the device (symmetric wraps, or a recipient
 * read from the device): the run's devices opened with the absent-device rules, and the same
 * card-operation context as identity-v1.
 */
export interface WrapContext<Device extends OpenDevice> {
  readonly ui: PluginUi;
  /** The device `ref` names, opened once per run; asked for when absent (or refused, see `wrapFailsAbsent`); null when skipped. */
  open(ref: DeviceRef): Promise<Device | null>;
  /** The PIN loop and touch message for an opened device. */
  context(device: DeviceRef): TokenContext;
  log(line: string): void;
}

/** A PIN the kit's loop verifies; the session throws the shared `PinInvalid` / `PinBlocked`. */
export interface PinTarget {
  /** Tries left, and whether the PIN is verified in the current card session. */
  status(): Promise<{ verified: boolean; retriesLeft?: number | undefined }>;
  verify(pin: string): Promise<void>;
  /** A re-prompt prefix when the entry cannot be a PIN (too short, an OTP typed by a touch …). */
  check?(pin: string): string | null;
}

export const MALFORMED = Symbol('malformed stanza');

/**
 * A card operation's answer for a stanza that turned out not to be for this identity (an untagged
 * stanza, or a tag only the device can check): no file key and no error.
 */
export const NOT_FOR_THIS = Symbol('not for this identity');

/** A family: formats, devices, the card operation, texts. */
export interface TokenFamily<Identity, Parsed, Recipient, Device extends OpenDevice> {
  /** The plugin name (`yubikey` for `age-plugin-yubikey`, `age1yubikey1…`, `AGE-PLUGIN-YUBIKEY-1…`). */
  readonly name: string;
  readonly texts: KitTexts;
  /** The environment variable that skips absent devices without asking (`=1` or `=true`). */
  readonly skipNotFoundEnv?: string;

  /** Recipient payload (Bech32-decoded, HRP checked) → recipient; throw when invalid. */
  parseRecipient(data: Uint8Array): Recipient;
  /** Identity payload → identity; throw when invalid. */
  parseIdentity(data: Uint8Array): Identity;
  /**
   * The stanzas for one file key and one recipient; may use the device through `ctx` (symmetric
   * wraps). Throwing fails the request with an error for that recipient or identity.
   */
  wrap(fileKey: Uint8Array, recipient: Recipient, ctx: WrapContext<Device>): Stanza[] | Promise<Stanza[]>;
  /** recipient-v1: an absent device fails the request at once instead of being asked for. */
  readonly wrapFailsAbsent?: boolean;
  /** Labels for recipient-v1 (e.g. `postquantum`); none by default. */
  labels?(recipients: Recipient[]): string[];
  /**
   * The recipient of an identity given to recipient-v1 (`age -e -i`), read from the device without
   * a PIN; throw an Error whose message is the text to report.
   */
  recipientOf?(identity: Identity, devices: DeviceAccess<Device>, log: (line: string) => void, ctx: WrapContext<Device>): Promise<Recipient>;
  /**
   * The text for a recipient, identity or stanza that does not parse (`parseStanza` may throw
   * instead of returning MALFORMED); undefined for the family's generic texts.
   */
  describeInvalid?(e: unknown): string | undefined;

  /** A stanza of this family, null when it is another type, MALFORMED when it is ours but broken (fails the file). */
  parseStanza(stanza: Stanza): Parsed | null | typeof MALFORMED;
  /** Card-free check that the stanza may be for this identity (a tag). */
  matches(identity: Identity, stanza: Parsed): boolean;
  /**
   * When `matches` cannot tell identities apart without the device (stanzas without tags, or
   * tags over a public key only the device holds): a stanza is offered to every matching
   * identity in turn instead of being claimed by the first.
   */
  readonly sharedStanzas?: boolean;
  /** The device the identity lives on. */
  deviceOf(identity: Identity): DeviceRef;
  /**
   * When a stanza can name the device itself (a FIDO2 stanza carrying its credential, opened with
   * a data-less identity): the device for this identity and stanza. Default: `deviceOf(identity)`.
   */
  deviceFor?(identity: Identity, stanza: Parsed): DeviceRef;
  /** Access to the devices for one run. */
  devices(): DeviceAccess<Device>;
  /**
   * The card operation: unwraps each stanza with the identity on the opened device; null where a
   * stanza does not open (reported), NOT_FOR_THIS where it proved not to be for this identity
   * (silent). Throwing fails the identity (the message comes from `describeError`).
   */
  unwrap(device: Device, identity: Identity, stanzas: Parsed[], ctx: TokenContext): Promise<Array<Uint8Array | null | typeof NOT_FOR_THIS>>;
  /** The text for a failure of an identity on a device; the kit's default covers the shared token errors. */
  describeError?(e: unknown, device: DeviceRef): string | undefined;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFamily = TokenFamily<any, any, any, any>;
