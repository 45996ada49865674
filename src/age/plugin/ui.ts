/**
 * The interactive commands a plugin may send its client during phase 2 (msg, confirm,
 * request-public, request-secret), as a typed interface. The plugin side implements it over the
 * protocol; in-process callers implement it directly.
 */
export interface PluginUi {
  /** `msg`: shows a message. */
  message(text: string): Promise<void>;
  /**
   * `confirm`: true for yes, false for no, 'unsupported' when the client cannot ask (older
   * clients). Rejects with `UiFailure` when the client answers `fail`.
   */
  confirm(message: string, yes: string, no?: string): Promise<boolean | 'unsupported'>;
  /** `request-public`; rejects with `UiFailure` on `fail` or `unsupported`. */
  requestPublic(prompt: string): Promise<string>;
  /** `request-secret`; rejects with `UiFailure` on `fail` or `unsupported`. */
  requestSecret(prompt: string): Promise<string>;
}

export class UiFailure extends Error {
  readonly code: 'FAIL' | 'UNSUPPORTED';
  constructor(code: 'FAIL' | 'UNSUPPORTED', message: string) {
    super(message);
    this.name = 'UiFailure';
    this.code = code;
  }
}
