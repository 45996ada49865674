/**
 * What age-plugin-fido2-hmac says about itself: the version of olastor/age-plugin-fido2-hmac it is
 * compatible with, its usage (what -h prints, on stderr, as the reference's) and its --version
 * line. Apart from the other texts (texts.ts) and from the command line's code so that a lone
 * `-h` or `-v` is answered from this module alone (LONE_FLAGS, src/plugins/kit/main.ts); the
 * command line prints the same texts.
 */
import type { LoneFlags } from '../kit/main.ts';
import { VERSION } from '../../version.ts';

export const REFERENCE_VERSION = '0.4.0';

export const USAGE = `Usage:
  age-plugin-fido2-hmac [-s] [-p] [-a ALG] -g
  age-plugin-fido2-hmac -y [IDENTITY_FILE]
  age-plugin-fido2-hmac -m

Options:
    -g, --generate        Generate new credentials interactively.
    -s, --symmetric       Use symmetric encryption and use a new salt for every encryption.
                          The token must be present for every operation.
    -p, --post-quantum    Use post-quantum MLKEM768-X25519 hybrid encryption instead of X25519.
    -y [FILE]             Print the recipient of each identity in FILE (default: stdin);
                          v2 identities need their token.
    -m, --magic-identity  Print the magic identity to use when no identity is required.
    -a, --algorithm       Choose a specific algorithm when creating the fido2 credential.
                          Can be one of 'es256', 'eddsa', or 'rs256'. Default: es256
    -v, --version         Show the version.
    -h, --help            Show this help message.

Examples:
  $ age-plugin-fido2-hmac -g > identity.txt # only contains an identity if chosen by user
  $ cat identity.txt | grep 'public key' | grep -oP 'age1.*' > recipient.txt
  $ echo 'secret' | age -R recipient.txt -o secret.enc
  $ age -d -i identity.txt secret.enc # when you created an identity
  $ age -d -j fido2-hmac secret.enc # when there is no identity

Environment Variables:

  FIDO2_TOKEN     This variable can be used to force a specific device path. Please note that
                  /dev/hid* paths are ephemeral and fido2 tokens (mostly) have no identifier.
                  Therefore, it's in general not recommended to use this environment variable.
  KEYBRIDGE_FIDO2_TCP=HOST:PORT
                  Use the FIDO2 authenticator at this TCP endpoint (Pico FIDO emulator framing,
                  keybridge sim fido2) as the only key.
  FIDO2_HMAC_PQ=1
                  Encrypting to a (separate) identity with age -e -i writes a post-quantum
                  mlkem768x25519 stanza instead of X25519.
  AGE_PLUGIN_FIDO2_HMAC_SKIP_NOT_FOUND=1
                  Skip credentials whose key is not plugged in instead of asking for it.`;

/** The `--version` line (the reference's version first, as the reference prints only it). */
export const VERSION_LINE = `${REFERENCE_VERSION} (keybridge ${VERSION})\n`;

const help = { stream: 'stderr', text: `${USAGE}\n`, code: 0 } as const;
const version = { stream: 'stdout', text: VERSION_LINE, code: 0 } as const;
/** What the command line (cli.ts) answers to each spelling of -h/-help and -v/-version alone (Go's flags: one or two dashes). */
export const LONE_FLAGS: LoneFlags = {
  '-h': help, '--h': help, '-help': help, '--help': help,
  '-v': version, '--v': version, '-version': version, '--version': version,
};
