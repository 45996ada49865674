/**
 * The `age-plugin-fido2-hmac` command line, as v0.4.0's: `-g/--generate` (also `-n`) with its
 * questions, `-s/--symmetric`, `-p/--post-quantum` (upstream main), `-a/--algorithm`, `-y [FILE]`, `-m/--magic-identity`,
 * `-v/--version`, `-h/--help`, and `--age-plugin=STATE_MACHINE`. Flags take one or two dashes and
 * `-a es256` or `-a=es256`, as Go's flag package does. Questions go to the terminal (or, with no
 * terminal, are answered one per line on stdin); the output goes to stdout.
 */
import { goOptionDefs, parseGoFlags, type GoFlag } from '../../term/goFlags.ts';
import type { ProgramSpec } from '../../term/spec.ts';
import { write, type Io } from '../../term/io.ts';
import { openPrompter, type Prompter } from '../../term/prompt.ts';
import type { PluginUi } from '../../age/plugin/ui.ts';
import { parseOrUsage } from '../kit/cli.ts';
import type { GenerateUi } from './generate.ts';
import { T } from './texts.ts';
import { REFERENCE_VERSION, USAGE, VERSION_LINE } from './about.ts';

/** The flags (Go's grammar), described for the parser, the completions and the man page. */
export const FLAGS = {
  'age-plugin': { type: 'string', value: 'STATE-MACHINE', description: 'run the given age plugin state machine (internal use)' },
  generate: { type: 'boolean', aliases: ['g', 'n'], description: 'generate new credentials interactively' },
  symmetric: { type: 'boolean', aliases: ['s'], description: 'symmetric encryption with a new salt for every file (the token is needed for every operation)' },
  'post-quantum': { type: 'boolean', aliases: ['p', 'pq'], description: 'post-quantum keys (MLKEM768X25519 hybrid): a v3 recipient, or an age1pq1… recipient for a separate identity (upstream main, not in 0.4.0)' },
  algorithm: { type: 'string', aliases: ['a'], value: 'ALG', choices: ['es256', 'eddsa', 'rs256'], description: "the credential's algorithm: es256 (the default), eddsa or rs256" },
  y: { type: 'boolean', description: 'print the recipient of each identity in FILE or stdin (v2 identities need their token)' },
  'magic-identity': { type: 'boolean', aliases: ['m'], description: 'print the magic identity to use when no identity is required' },
  version: { type: 'boolean', aliases: ['v'], description: 'show the version' },
  help: { type: 'boolean', aliases: ['h'], description: 'show the help' },
} as const satisfies Record<string, GoFlag>;

/** age-plugin-fido2-hmac for its man page and completions. */
export const PROGRAM: ProgramSpec = {
  name: 'age-plugin-fido2-hmac',
  summary: `FIDO2 keys (CTAP2 hmac-secret) as age identities, compatible with age-plugin-fido2-hmac ${REFERENCE_VERSION}`,
  style: 'go',
  options: goOptionDefs(FLAGS),
  positionals: [{ name: 'FILE', optional: true, complete: 'file', description: 'with -y: the identity file' }],
  description: [
    `Uses FIDO2 security keys through the hmac-secret extension as age identities, compatible with olastor/age-plugin-fido2-hmac ${REFERENCE_VERSION}: the same age1fido2-hmac1… recipients, AGE-PLUGIN-FIDO2-HMAC-1… identities and fido2-hmac stanzas. Several keys plugged in are probed silently; only the one holding the credential asks for its PIN and a touch.`,
  ],
  environment: {
    FIDO2_TOKEN: 'use only the FIDO2 device at this path',
    FIDO2_HMAC_PQ: 'when 1 (true, yes), age -e -i with a separate identity writes a post-quantum mlkem768x25519 stanza instead of X25519',
    KEYBRIDGE_FIDO2_TCP: 'HOST:PORT[,HOST:PORT…]: use these TCP endpoints (Pico FIDO emulator framing, keybridge sim fido2) as the only keys',
    AGE_PLUGIN_FIDO2_HMAC_SKIP_NOT_FOUND: 'when 1, decryption skips credentials whose key is not plugged in instead of asking for it',
  },
  exitStatus: '0 success, 1 failure, 2 usage error.',
  examples: ['age-plugin-fido2-hmac -g > identity.txt', 'age -d -i identity.txt secret.age', 'age -d -j fido2-hmac secret.age'],
};

export function parseFlags(argv: readonly string[]) {
  const { values: v, positionals } = parseGoFlags(argv, FLAGS);
  return {
    ...(v['age-plugin'] !== undefined ? { agePlugin: v['age-plugin'] } : {}),
    generate: v.generate ?? false,
    symmetric: v.symmetric ?? false,
    postQuantum: v['post-quantum'] ?? false,
    algorithm: v.algorithm ?? 'es256',
    toRecipient: v.y ?? false,
    magic: v['magic-identity'] ?? false,
    version: v.version ?? false,
    help: v.help ?? false,
    positionals,
  };
}

function promptUi(p: Prompter): GenerateUi {
  return {
    message: async (t) => p.say(`[*] ${t}`),
    requestSecret: (prompt) => p.secret(prompt.replace(/:\s*$/, '')),
    confirm: async (q) => /^y/i.test((await p.line(`[*] ${q} [y/n]`)).trim()),
    choose: async (q, options) => {
      options.forEach((o, i) => p.say(`[*]   ${i + 1}. ${o}`));
      for (;;) {
        const n = Number((await p.line(`[*] ${q.replace(/\?$/, '')}`)).trim());
        if (Number.isInteger(n) && n >= 1 && n <= options.length) return n;
      }
    },
  };
}

export async function runCli(argv: readonly string[], io: Io, runStateMachine: (sm: string, io: Io) => Promise<number>): Promise<number> {
  const flags = await parseOrUsage(io, USAGE, () => parseFlags(argv));
  if (typeof flags === 'number') return flags;
  if (flags.agePlugin !== undefined) return runStateMachine(flags.agePlugin, io);
  if (flags.magic) {
    await write(io.stdout, (await import('./format.ts')).MAGIC_IDENTITY);
    return 0;
  }
  if (flags.generate) {
    const { COSE_ALGORITHMS } = await import('../../tokens/ctap2/session.ts');
    const alg = COSE_ALGORITHMS[flags.algorithm.trim().toLowerCase() as keyof typeof COSE_ALGORITHMS];
    if (alg === undefined || !Object.hasOwn(COSE_ALGORITHMS, flags.algorithm.trim().toLowerCase())) {
      await write(io.stderr, T.unsupportedAlgorithm(flags.algorithm.slice(0, 40)));
      return 1;
    }
    // The CTAP2 and format code is loaded by the commands that use it: --help, --version and the
    // state machines start without it.
    const [{ openKeys }, { generate, generatedText }] = await Promise.all([import('./plugin.ts'), import('./generate.ts')]);
    return withPrompter(io, async (p) => {
      const keys = openKeys(io.env);
      try {
        const g = await generate(keys, promptUi(p), { symmetric: flags.symmetric, alg, pq: flags.postQuantum });
        await write(io.stdout, generatedText(g));
        return 0;
      } finally {
        await keys.close();
      }
    });
  }
  if (flags.toRecipient) {
    const text = flags.positionals[0] !== undefined ? await (await import('node:fs/promises')).readFile(flags.positionals[0], 'utf8') : await readStdin(io);
    const [{ openKeys }, { fido2HmacFamily }, { wrapContext }, { parseIdentityString, recipientString }, { x25519RecipientString }] = await Promise.all([
      import('./plugin.ts'),
      import('./family.ts'),
      import('../kit/recipient.ts'),
      import('./format.ts'),
      import('../../age/x25519.ts'),
    ]);
    return withPrompter(io, async (p) => {
      const keys = openKeys(io.env);
      const ui = promptUi(p);
      const family = fido2HmacFamily({ keys });
      const access = family.devices();
      const user: PluginUi = { message: ui.message, requestSecret: ui.requestSecret, confirm: async (q) => ui.confirm(q), requestPublic: ui.requestSecret };
      const ctx = wrapContext(family, () => access, { ui: user, interactive: () => true });
      try {
        for (const line of text.split(/\r?\n/)) {
          const s = line.trim();
          if (!s.startsWith('AGE-PLUGIN-FIDO2-HMAC-')) continue;
          const id = parseIdentityString(s);
          if (id.version === 'dataless') throw new Error('the magic identity has no recipient');
          if (id.version === 1) {
            await write(io.stdout, `${recipientString({ version: 1, requirePin: id.requirePin, credentialId: id.credentialId })}\n`);
            continue;
          }
          const r = await family.recipientOf!(id, access, () => undefined, ctx);
          if (r.version === 'x25519') await write(io.stdout, `${x25519RecipientString(r.publicKey)}\n`);
        }
        return 0;
      } finally {
        await keys.close();
      }
    });
  }
  if (flags.version) {
    await write(io.stdout, VERSION_LINE);
    return 0;
  }
  await write(io.stderr, `${USAGE}\n`);
  return 1;
}

async function withPrompter(io: Io, run: (p: Prompter) => Promise<number>): Promise<number> {
  const p = openPrompter(io.stdin as never, io.stderr);
  try {
    return await run(p);
  } catch (err) {
    await write(io.stderr, `Failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    p.close();
  }
}

async function readStdin(io: Io): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of io.stdin as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > 1 << 20) throw new Error('identity input larger than 1 MiB');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}
