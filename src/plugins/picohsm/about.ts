/**
 * What age-plugin-picohsm says about itself: its name, the version of pinpox/age-plugin-picohsm it
 * is compatible with, and its usage, --help and --version texts. Apart from the other texts
 * (strings.ts) and from the command line's code so that a lone `--help` or `--version` is answered
 * from this module alone (LONE_FLAGS, src/plugins/kit/main.ts); the command line prints the same
 * texts. It imports nothing of the family: the environment variables' names are spelled out here
 * as strings.ts has them (the tests check both).
 */
import type { LoneFlags } from '../kit/main.ts';
import { VERSION } from '../../version.ts';

export const BINARY = 'age-plugin-picohsm';
export const REFERENCE_VERSION = '0.1.0';

/** The short usage, printed when no command is given. */
export const USAGE = `Usage: ${BINARY} [--generate --label NAME [--key-type p256|x25519]] [--list] [--list-all] [--convert IDENTITY] [--json] [--version]\n`;

export const HELP = `Usage: ${BINARY} [OPTIONS]

Use Pico HSMs (SmartCard-HSM over PC/SC) as age identities. Compatible with
pinpox/age-plugin-picohsm ${REFERENCE_VERSION}: same age1picohsm1… recipients,
AGE-PLUGIN-PICOHSM-1… identities and picohsm stanzas.

Commands:
  --generate --label NAME    Generate a key on the Pico HSM and print its identity file.
      --key-type TYPE        p256 (default, as pinpox) or x25519: an X25519 key's recipient is a
                             plain age1… that stock age, rage, sops and typage encrypt to.
      --pq                   A post-quantum key (ML-KEM-768 + a P-256 key on the device,
                             mlkem768p256tag): its recipient is age1tagpq1…, which Go age >= 1.3,
                             rage >= 0.12 and typage encrypt to. The ML-KEM seed is stored in a
                             PIN-protected data object beside the key.
  --list                     List the age keys keybridge made on plugged-in Pico HSMs (recipients).
  --list-all                 Also list keys made by other tools (pkcs11-tool, sc-hsm-tool,
                             pico-hsm-tool) that can serve as age keys.
  --convert IDENTITY         Print the recipient of an identity (a string or a file); no PIN needed.
  --version                  Print the version.
  --age-plugin=STATE-MACHINE Run the age plugin protocol. Internal use only.

Options:
  --serial SERIAL            Which Pico HSM, when several are plugged in (as opensc-tool shows it).
  --json                     With --generate, --list, --list-all, --convert: print JSON.
  --pin PIN                  For drop-in use only: the PIN on the command line is visible to other
                             users; leave it out to be asked on the terminal.
  --module PATH              Accepted and not used: keybridge needs no PKCS#11 module.
  -h, --help                 Print this help.

Environment:
  PICOHSM_PIN                The PIN (drop-in use; visible to your other processes).
  AGE_PLUGIN_PICOHSM_SKIP_NOT_FOUND=1   When decrypting, skip identities whose Pico HSM is not
                                        plugged in instead of asking for it.

Examples:
  ${BINARY} --generate --label laptop > identity.txt
  ${BINARY} --generate --label laptop-x --key-type x25519 > identity-x.txt
  ${BINARY} --generate --label laptop-pq --pq > identity-pq.txt
  ${BINARY} --list > recipients.txt
  age -R recipients.txt -o secret.age secret.txt
  age -d -i identity.txt secret.age
`;

/** The `--version` line. */
export const VERSION_LINE = `${BINARY} ${REFERENCE_VERSION} (keybridge ${VERSION})\n`;

const help = { stream: 'stdout', text: HELP, code: 0 } as const;
const version = { stream: 'stdout', text: VERSION_LINE, code: 0 } as const;
/** What the command line (cli.ts) answers to each spelling of -h/--help and -V/--version alone (Go's -help and -version too). */
export const LONE_FLAGS: LoneFlags = { '-h': help, '--help': help, '-help': help, '-V': version, '--version': version, '-version': version };
