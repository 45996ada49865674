/**
 * What age-plugin-yubikey says about itself: its name, the version of age-plugin-yubikey it is
 * compatible with, and its --help and --version texts. Apart from the other texts (strings.ts)
 * and from the command line's code so that a lone `--help` or `--version` is answered from this
 * module alone (LONE_FLAGS, src/plugins/kit/main.ts); the command line prints the same texts.
 */
import type { LoneFlags } from '../kit/main.ts';
import { VERSION } from '../../version.ts';

export const BINARY = 'age-plugin-yubikey';
export const REFERENCE_VERSION = '0.5.0';

export const HELP = `Usage: ${BINARY} [OPTIONS]

Use YubiKeys (PIV, P-256) as age identities. Drop-in compatible with age-plugin-yubikey
${REFERENCE_VERSION}: same recipients (age1yubikey1…), identities (AGE-PLUGIN-YUBIKEY-1…) and stanzas.

Optional arguments:
  -h, --help                   Print this help message and exit.
  -V, --version                Print version info and exit.
  --age-plugin STATE-MACHINE   Run the given age plugin state machine. Internal use only.
  -f, --force                  Force --generate to overwrite a filled slot.
  -g, --generate               Generate a new YubiKey identity.
  -i, --identity               Print the identity stored in a YubiKey slot.
  -l, --list                   List all age identities in connected YubiKeys.
  --list-all                   List all YubiKey keys that are compatible with age.
  --name NAME                  Name for the generated identity. Defaults to 'age identity HEX_TAG'.
  --pin-policy PIN-POLICY      One of [always, once, never]. Defaults to 'once'.
  --serial SERIAL              Specify which YubiKey to use, if more than one is plugged in.
  --slot SLOT                  Specify which slot to use (1-20). Defaults to first usable slot.
  --touch-policy TOUCH-POLICY  One of [always, cached, never]. Defaults to 'always'.

keybridge additions:
  --tag                        With --list/--list-all: print age1tag1… recipients, which Go age >= 1.3,
                               rage >= 0.12 and typage encrypt to without any plugin installed.
  --json                       With --generate/--identity/--list/--list-all: print JSON.
  --pq                         With --generate: a post-quantum key (ML-KEM-768 + the slot's P-256,
                               mlkem768p256tag). Its recipient is age1tagpq1…, which Go age >= 1.3,
                               rage >= 0.12 and typage encrypt to; the ML-KEM seed is kept in the
                               slot certificate, as age-plugin-yubikey's post-quantum support does.

Environment:
  AGE_PLUGIN_YUBIKEY_SKIP_NOT_FOUND=1   When decrypting, skip identities whose YubiKey is not
                                        plugged in instead of asking for it.

PINs are read from the terminal (or, with no terminal, one per line from standard input);
they are never taken from arguments.

Without a command, a guided setup asks which YubiKey, slot, name and policies to use and writes
age-yubikey-identity-<tag>.txt.

Examples:
  ${BINARY}                                    # guided setup
  ${BINARY} --generate > identity.txt        # new key in the first free slot (PIN once, touch always)
  ${BINARY} --list > recipients.txt           # recipients of every age key on plugged-in YubiKeys
  age -R recipients.txt -o secret.age secret.txt
  age -d -i identity.txt secret.age
`;

/** The `--version` line. */
export const VERSION_LINE = `${BINARY} ${REFERENCE_VERSION} (keybridge ${VERSION})\n`;

const help = { stream: 'stdout', text: HELP, code: 0 } as const;
const version = { stream: 'stdout', text: VERSION_LINE, code: 0 } as const;
/** What the command line (cli.ts, src/plugins/kit/cli.ts) answers to each spelling of -h/--help and -V/--version alone. */
export const LONE_FLAGS: LoneFlags = { '-h': help, '--help': help, '-V': version, '--version': version };
