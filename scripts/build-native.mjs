// Builds native/keybridge_native.node (the agent's peer check, locked memory, non-dumpable
// process) with the node-gyp that ships with npm, against the local Node headers only: nothing
// is downloaded. A failure is reported loudly but does not fail the install: every command
// except `keybridge agent` works without it, and the agent refuses to start and says why.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');

function fail(why) {
  process.stderr.write(
    `keybridge: native/keybridge_native.node was not built (${why}).\n` +
      '  Everything works except `keybridge agent`, which refuses to start without it.\n' +
      '  Needs a C compiler, make, python3 and the Node headers (Debian: build-essential, nodejs-dev or a nodedir); then run: node scripts/build-native.mjs\n',
  );
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
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--directory', join(root, 'native'), '--loglevel=error'], {
  stdio: quiet ? ['ignore', 'ignore', 'pipe'] : ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, npm_config_nodedir: nodedir, npm_config_offline: 'true' },
});
if (r.status !== 0) {
  if (quiet && r.stderr) process.stderr.write(r.stderr);
  fail(r.error ? r.error.message : `node-gyp exited with ${r.status ?? r.signal}`);
}
