/**
 * What age-plugin-fido2prf says about itself: its usage, what -h prints (on stderr, as Go's flag
 * package does). Apart from the other texts (texts.ts) and from the command line's code so that a
 * lone `-h` is answered from this module alone (LONE_FLAGS, src/plugins/kit/main.ts); the command
 * line prints the same text. There is no --version: the reference has none (a usage error, left
 * to the command line).
 */
import type { LoneFlags } from '../kit/main.ts';

export const USAGE = `Usage of age-plugin-fido2prf:
  -generate RPID
        generate a new credential for the relying party RPID (e.g. example.com) and print its
        identity; needs exactly one FIDO2 key plugged in and its PIN

The identity is symmetric: encrypt with \`age -e -i identity.txt\`, decrypt with
\`age -d -i identity.txt\`. Files are compatible with typage's WebAuthn fido2prf (browser passkeys
and security keys of the same credential).

Environment:
  KEYBRIDGE_FIDO2_TCP=HOST:PORT   use the FIDO2 authenticator at this TCP endpoint as the only key
  AGE_PLUGIN_FIDO2PRF_SKIP_NOT_FOUND=1
                                  skip identities whose key is not plugged in instead of asking`;

const help = { stream: 'stderr', text: `${USAGE}\n`, code: 0 } as const;
/** What the command line (cli.ts) answers to each spelling of -h/-help alone (Go's flags: one or two dashes). */
export const LONE_FLAGS: LoneFlags = { '-h': help, '--h': help, '-help': help, '--help': help };
