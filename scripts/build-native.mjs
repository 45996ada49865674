// Builds the native addons with the node-gyp that ships with npm, against the local Node headers
// only: nothing is downloaded. Three separate targets, each built on its own so that a failure of
// one never costs the others:
// - native/build/Release/keybridge_native.node (native/agent.c): the agent's peer check, locked
//   memory, non-dumpable process; without it `keybridge agent` refuses to start and says why;
// - native/build/Release/keybridge_bignum.node (native/bignum.c): ssh-to-age's batch point
//   check and conversion through the OpenSSL BIGNUM functions node exports; without it large
//   inputs convert through node:crypto and BigInt instead (same output, slower);
// - native/build/Release/keybridge_openssl.node (native/openssl.c): the few crypto operations of
//   the age plugins' one-shot runs and of ssh-to-age -private-key / bw derive, on the OpenSSL node
//   exports; without it they run through node:crypto (same output, milliseconds more start-up).
// A failure is reported loudly but does not fail the install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');

const AGENT = 'keybridge_native';
const BIGNUM = 'keybridge_bignum';
const OPENSSL = 'keybridge_openssl';

const CONSEQUENCE = {
  [AGENT]: '  Everything works except `keybridge agent`, which refuses to start without it.\n',
  [BIGNUM]: '  ssh-to-age works without it; only inputs of thousands of keys convert more slowly.\n',
  [OPENSSL]: '  Everything works without it; the age plugins and ssh-to-age -private-key start a few milliseconds slower (node:crypto instead).\n',
};

function report(target, why) {
  process.stderr.write(
    `keybridge: native/build/Release/${target}.node was not built (${why}).\n` +
      CONSEQUENCE[target] +
      '  Needs a C compiler, make, python3 and the Node headers (Debian: build-essential, nodejs-dev or a nodedir); then run: node scripts/build-native.mjs\n',
  );
}

function fail(why) {
  for (const t of [AGENT, BIGNUM, OPENSSL]) report(t, why);
  process.exit(0);
}

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/share/nodejs/node-gyp/bin/node-gyp.js',
    join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => c && existsSync(c));
}

function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  for (const d of [join(dirname(process.execPath), '..'), '/usr', '/usr/local']) {
    if (existsSync(join(d, 'include', 'node', 'node_api.h'))) return d;
  }
  return undefined;
}

const gyp = nodeGyp();
if (!gyp) fail('node-gyp not found: it ships with npm');
const nodedir = nodeDir();
if (!nodedir) fail('no Node headers (include/node/node_api.h) found; set npm_config_nodedir');
function gypRun(args) {
  const r = spawnSync(process.execPath, [gyp, ...args, `--nodedir=${nodedir}`, '--directory', join(root, 'native'), '--loglevel=error'], {
    stdio: quiet ? ['ignore', 'ignore', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, npm_config_nodedir: nodedir, npm_config_offline: 'true' },
  });
  if (r.status === 0) return undefined;
  if (quiet && r.stderr) process.stderr.write(r.stderr);
  return r.error ? r.error.message : `node-gyp exited with ${r.status ?? r.signal}`;
}

const configured = gypRun(['clean']) ?? gypRun(['configure']);
if (configured) fail(configured);
for (const target of [AGENT, BIGNUM, OPENSSL]) {
  const why = gypRun(['build', target]);
  if (why) report(target, why);
}
