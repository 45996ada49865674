/**
 * Start-up of the one-shot commands next to a bare `node -e 0`, measured in one run: the
 * commands are run in interleaved rounds (so a noisy neighbour hits all of them alike) and the
 * median wall time of each is compared with that of `node -e 0`. Each runs as package.json
 * installs it. A plugin's recipient-v1 wraps one file key to a recipient (no card needed;
 * fido2prf, whose identities are symmetric, is given an identity and runs until its first key
 * access, with no key there); identity-v1 is given an identity and a stanza for it and runs until
 * its first card access, which finds no card here (no pcscd socket, no FIDO2 key), so the
 * plugin answers without a file key. The FIDO2 plugins' rows are also run over USB HID (node-hid,
 * as people run them) when no FIDO2 key is plugged in.
 *
 * Two baselines: `node -e 0` run by spawnSync, as every other command is, and for the plugin
 * rows also the least a plugin does, run by the same harness as the plugins (scripts/
 * pluginRequests.ts runPlugin: an async spawn that writes phase 1, answers each request `ok` and
 * closes stdin after the plugin's `done`): a script file that reads stdin up to the end of phase
 * 1, answers `-> done`, reads stdin to its end and exits. Plugin rows print their ratio to both.
 * Two more rows are floors of node's own: a script file that only loads node:crypto (what any
 * command that hashes or does curve arithmetic through OpenSSL pays first), and the least a P-256
 * recipient-v1 does (MINIMAL_WRAP: the minimal plugin plus node:crypto and one wrap). The floors
 * are files, not `node -e`: `-e` loads node:crypto before the script runs.
 *
 * Every row runs without NODE_EXTRA_CA_CERTS: node reads and parses that file at every start,
 * before any script (a system CA bundle costs tens of milliseconds, more than a bare node's whole
 * start without it), for TLS that none of these commands makes; left in, it would shrink every
 * ratio. When it is set (here, or by scripts/bench.sh through KEYBRIDGE_BENCH_EXTRA_CA_CERTS),
 * `node -e 0` with it is one more row, so its cost is in the figures.
 *
 * With valgrind, each row is then run once more under callgrind for its instruction count, a
 * figure that does not drift with the machine's load.
 *
 *   npx tsx bench/startup.ts [ROUNDS]     (default 15)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noCardEnv, pluginRequests, runPlugin } from '../scripts/pluginRequests.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const FIX = join(ROOT, 'test', 'fixtures', 'ssh-to-age');
const ROUNDS = Number(process.argv[2] ?? 15);

const dir = mkdtempSync(join(tmpdir(), 'kb-bench-start-'));
const exportFile = join(dir, 'bitwarden.json');
writeFileSync(exportFile, JSON.stringify({ encrypted: false, items: [{ id: 'a', name: 'sops-bench-ssh', type: 5, sshKey: { publicKey: readFileSync(join(FIX, 'id_ed25519.pub'), 'utf8').trim(), privateKey: readFileSync(join(FIX, 'id_ed25519'), 'utf8') } }] }));
const pub = readFileSync(join(FIX, 'id_ed25519.pub'));

interface Case {
  name: string;
  args: string[];
  input?: Uint8Array | string;
  env?: NodeJS.ProcessEnv;
  /** Expected start of stdout (of stderr with `stderr`): a wrong answer is not a measurement. */
  expect: RegExp;
  stderr?: boolean;
  /** Speaks the age plugin protocol: `input` is phase 1, each request of the plugin is answered `ok`. */
  plugin?: boolean;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const bin = (name: string) => join(ROOT, pkg.bin[name]!);
const extraCaCerts = process.env.NODE_EXTRA_CA_CERTS || process.env.KEYBRIDGE_BENCH_EXTRA_CA_CERTS;
delete process.env.NODE_EXTRA_CA_CERTS;
delete process.env.KEYBRIDGE_BENCH_EXTRA_CA_CERTS;
const noCard = noCardEnv(dir);
const plugins = await pluginRequests();
/**
 * The FIDO2 plugins as people run them look for keys over USB HID (node-hid); noCardEnv points
 * them at a closed TCP port instead (the transport of the virtual authenticator), which loads
 * node's net and stream modules. Their protocol rows are also run over USB HID when node-hid
 * finds no FIDO2 key here (with one plugged in, the rows would talk to it: they are left out).
 */
const { fidoHidDevices, loadNodeHid } = await import('../src/transport/hid/nodeHid.ts');
const hidKeys = fidoHidDevices(await loadNodeHid()).length;
const noCardHid: NodeJS.ProcessEnv = { ...noCard };
delete noCardHid.KEYBRIDGE_FIDO2_TCP;

/** The least a plugin does: read phase 1 (up to its `-> done`), answer `-> done`, read stdin to its end (read(2), no streams). */
const MINIMAL_PLUGIN = "const fs=require('fs');const b=Buffer.alloc(65536);let s='';for(let n;(n=fs.readSync(0,b))>0&&!(s+=b.latin1Slice(0,n)).includes('\\n-> done\\n\\n'););fs.writeSync(1,'-> done\\n\\n');while(fs.readSync(0,b)>0);";
const HARNESS_BASE = 'minimal plugin, plugin harness';
/**
 * The least a P-256 plugin's recipient-v1 does: the minimal plugin plus node:crypto and one wrap
 * (ECDH with an ephemeral key, HKDF-SHA-256, ChaCha20-Poly1305), one stanza and its `ok`. What a
 * plugin costs beyond this is its own code; up to this is node's.
 */
const MINIMAL_WRAP =
  "const fs=require('fs'),c=require('crypto');const b=Buffer.alloc(65536);let s='';const rd=(end)=>{s='';for(let n;(n=fs.readSync(0,b))>0&&!(s+=b.latin1Slice(0,n)).includes(end););};" +
  "rd('\\n-> done\\n\\n');const r=c.createECDH('prime256v1');r.generateKeys();const e=c.createECDH('prime256v1');e.generateKeys();" +
  "const k=Buffer.from(c.hkdfSync('sha256',e.computeSecret(r.getPublicKey()),Buffer.concat([e.getPublicKey(),r.getPublicKey()]),'piv-p256',32));" +
  "const x=c.createCipheriv('chacha20-poly1305',k,Buffer.alloc(12),{authTagLength:16});const body=Buffer.concat([x.update(Buffer.alloc(16)),x.final(),x.getAuthTag()]);" +
  "fs.writeSync(1,'-> recipient-stanza 0 piv-p256 '+e.getPublicKey(null,'compressed').toString('base64').replace(/=+$/,'')+'\\n'+body.toString('base64').replace(/=+$/,'')+'\\n');" +
  "rd('\\n\\n');fs.writeSync(1,'-> done\\n\\n');while(fs.readSync(0,b)>0);";
/** A floor as a script file in the benchmark's directory. */
const script = (name: string, code: string) => {
  const file = join(dir, name);
  writeFileSync(file, code);
  return file;
};
const cases: Case[] = [
  { name: 'node -e 0', args: ['-e', '0'], expect: /^$/ },
  ...(extraCaCerts ? [{ name: 'node -e 0 with NODE_EXTRA_CA_CERTS', args: ['-e', '0'], env: { ...process.env, NODE_EXTRA_CA_CERTS: extraCaCerts }, expect: /^$/ }] : []),
  { name: 'node FILE (loads node:crypto)', args: [script('crypto.cjs', "require('node:crypto');")], expect: /^$/ },
  { name: HARNESS_BASE, args: [script('minimal-plugin.cjs', MINIMAL_PLUGIN)], input: plugins[0]!.recipientV1, plugin: true, expect: /^-> done\n\n$/ },
  { name: 'minimal P-256 wrap, plugin harness', args: [script('minimal-wrap.cjs', MINIMAL_WRAP)], input: plugins[0]!.recipientV1, plugin: true, expect: /^-> recipient-stanza 0 piv-p256 / },
  { name: 'ssh-to-age < one public key', args: [bin('ssh-to-age')], input: pub, expect: /^age1/ },
  { name: 'ssh-to-age -private-key -i key', args: [bin('ssh-to-age'), '-private-key', '-i', join(FIX, 'id_ed25519')], expect: /^AGE-SECRET-KEY-1/ },
  { name: 'ssh-to-age -version', args: [bin('ssh-to-age'), '-version'], expect: /^1\.3\.0/ },
  { name: 'keybridge --version', args: [bin('keybridge'), '--version'], expect: /^keybridge / },
  { name: 'keybridge --help', args: [bin('keybridge'), '--help'], expect: /^keybridge / },
  { name: 'keybridge bw derive (export)', args: [bin('keybridge'), 'bw', 'derive', 'sops-bench-ssh', '--export', exportFile], expect: /^age1/ },
  { name: 'keybridge bw derive --identity', args: [bin('keybridge'), 'bw', 'derive', 'sops-bench-ssh', '--export', exportFile, '--identity'], expect: /^age1/ },
  ...plugins.flatMap((p): Case[] => {
    const exe = bin(`age-plugin-${p.name}`);
    return [
      ...(p.version ? [{ name: `age-plugin-${p.name} --version`, args: [exe, '--version'], expect: p.version }] : []),
      { name: `age-plugin-${p.name} --help`, args: [exe, '--help'], expect: /^Usage/, ...(p.helpOnStderr ? { stderr: true } : {}) },
      { name: `age-plugin-${p.name} recipient-v1`, args: [exe, '--age-plugin=recipient-v1'], input: p.recipientV1, env: noCard, plugin: true, expect: p.recipientReply },
      { name: `age-plugin-${p.name} identity-v1`, args: [exe, '--age-plugin=identity-v1'], input: p.identityV1, env: noCard, plugin: true, expect: /^-> / },
      ...(p.name.startsWith('fido2') && hidKeys === 0
        ? [
            // fido2prf's recipient-v1 is given an identity: it looks for the key too
            ...(p.name === 'fido2prf' ? [{ name: `age-plugin-${p.name} recipient-v1, USB HID`, args: [exe, '--age-plugin=recipient-v1'], input: p.recipientV1, env: noCardHid, plugin: true, expect: p.recipientReply }] : []),
            { name: `age-plugin-${p.name} identity-v1, USB HID`, args: [exe, '--age-plugin=identity-v1'], input: p.identityV1, env: noCardHid, plugin: true, expect: /^-> / },
          ]
        : []),
    ];
  }),
];
function check(c: Case, status: number | null, stdout: string, stderr: string): void {
  if (status !== 0 || !c.expect.test(c.stderr ? stderr : stdout)) throw new Error(`${c.name} failed (exit ${status}): ${stdout.slice(0, 300)} ${stderr.slice(0, 300)}`);
}

async function once(c: Case): Promise<number> {
  if (c.plugin) {
    const r = await runPlugin(c.args, String(c.input ?? ''), c.env ?? process.env);
    check(c, r.status, r.stdout, r.stderr);
    return r.ms;
  }
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, c.args, { input: c.input ?? new Uint8Array(0), env: c.env ?? process.env, maxBuffer: 1 << 20 });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  check(c, r.status, r.stdout.toString(), r.stderr.toString());
  return wall;
}

/**
 * The instructions one run executes, every thread of the process (valgrind's callgrind, which
 * counts instructions rather than time: about the same count whatever else the machine does, so
 * the ratios of this column repeat from run to run where wall times drift; a row over TCP, whose
 * connection attempt depends on timing, moves by a percent or two). V8's hash seed is fixed
 * (--random-seed) so that its hash tables, and with them the count, do not vary between runs.
 * Undefined without valgrind.
 */
const CALLGRIND = ['valgrind', '--tool=callgrind', '--callgrind-out-file=/dev/null'];
const hasValgrind = spawnSync('valgrind', ['--version']).status === 0;
async function instructions(c: Case): Promise<number | undefined> {
  if (!hasValgrind) return undefined;
  const args = ['--random-seed=1', ...c.args];
  const env = c.env ?? process.env;
  let r: { status: number | null; stdout: string; stderr: string };
  if (c.plugin) r = await runPlugin(args, String(c.input ?? ''), env, CALLGRIND);
  else {
    const [command, ...rest] = [...CALLGRIND, process.execPath, ...args];
    r = spawnSync(command!, rest, { input: c.input ?? new Uint8Array(0), env, maxBuffer: 1 << 22, encoding: 'utf8' });
  }
  const count = /Collected : (\d+)/.exec(r.stderr);
  // valgrind's own lines start with ==PID==
  check(c, r.status, r.stdout, r.stderr.replace(/^==\d+==.*\n/gm, ''));
  if (!count) throw new Error(`${c.name}: no instruction count from valgrind: ${r.stderr.slice(-300)}`);
  return Number(count[1]);
}

const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
for (const c of cases) await once(c); // warm the page cache
for (let r = 0; r < ROUNDS; r++) for (const c of cases) samples.get(c.name)!.push(await once(c));
// the median: the best of a few runs follows whichever row had the luckiest one, the baseline included
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const best = new Map<string, number>(cases.map((c) => [c.name, median(samples.get(c.name)!)]));
const counts = new Map<string, number | undefined>();
for (const c of cases) counts.set(c.name, c.env?.NODE_EXTRA_CA_CERTS ? undefined : await instructions(c));
const base = best.get('node -e 0')!;
const harness = best.get(HARNESS_BASE)!;
const baseCount = counts.get('node -e 0');
console.log(`start-up, median wall time of ${ROUNDS} interleaved rounds, without NODE_EXTRA_CA_CERTS; ratio to node -e 0 (spawnSync); plugin protocol rows also to a minimal plugin in the same harness (async spawn, ok/done round trips)`);
console.log(hasValgrind ? '  then the instructions of one run (callgrind) and their ratio to those of node -e 0: these hardly move between runs' : '  (no valgrind: the instruction counts are left out)');
if (hidKeys > 0) console.log(`  (${hidKeys} FIDO2 key${hidKeys > 1 ? 's' : ''} plugged in: the FIDO2 plugins' USB HID rows are left out)`);
for (const c of cases) {
  const ms = best.get(c.name)!;
  const vsHarness = c.plugin && c.name !== HARNESS_BASE ? `  ${(ms / harness).toFixed(2)}× harness` : '';
  const n = counts.get(c.name);
  const ir = n !== undefined && baseCount ? `   ${(n / 1e6).toFixed(1).padStart(6)} M instr  ${(n / baseCount).toFixed(2)}×` : '';
  console.log(`  ${c.name.padEnd(44)} ${ms.toFixed(1).padStart(6)} ms  ${(ms / base).toFixed(2)}×${(vsHarness || ' '.repeat(15)).padEnd(15)}${ir}`);
}
