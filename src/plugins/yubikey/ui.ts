/**
 * What the YubiKey plugin needs from whoever drives it: the age client over the plugin protocol,
 * or an in-process caller. Structurally the same as the protocol framework's plugin UI.
 */
export interface YubiKeyUi {
  /** Shows a message (`msg`). */
  message(text: string): Promise<void>;
  /**
   * Asks a yes/no question (`confirm`). Resolves true for yes, false for no; 'unsupported' when
   * the client cannot ask. Rejects when the client reports failure.
   */
  confirm(message: string, yes: string, no?: string): Promise<boolean | 'unsupported'>;
  /** Asks for a secret (`request-secret`); rejects when the client cannot or the user declines. */
  requestSecret(prompt: string): Promise<string>;
}

export interface UnwrapEnvironment {
  /** AGE_PLUGIN_YUBIKEY_SKIP_NOT_FOUND=1: absent YubiKeys are skipped without asking. */
  skipNotFound?: boolean;
  /** Whether someone could answer a question about inserting a YubiKey (a terminal exists). */
  interactive?: boolean | (() => boolean);
  /** Waits (for the insert-polling fallback); injectable so tests need not sleep. */
  sleep?: (ms: number) => Promise<void>;
  /** Monotonic milliseconds, for the cached-touch window. */
  now?: () => number;
  log?: (line: string) => void;
}
