/**
 * age-plugin-dummy: a test plugin on keybridge's protocol framework, shaped like the reference's
 * transcript plugin. recipient-v1 "wraps" by copying the file key into `-> dummy tag123`
 * (insecure, tests only); identity-v1 greets with a msg and, when the identity's first data byte
 * is 1, asks for a PIN ("4321") with request-secret.
 */
import { bech32 } from '@scure/base';
import { runPlugin } from '../../src/age/plugin/server.ts';

const arg = process.argv.find((a) => a.startsWith('--age-plugin='))?.slice('--age-plugin='.length) ?? '';

runPlugin({
  name: 'dummy',
  stateMachine: arg,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  recipient: {
    async wrapFileKeys(req) {
      return { stanzas: req.fileKeys.map((k) => [...req.recipients, ...req.identities].map(() => ({ type: 'dummy', args: ['tag123'], body: k }))) };
    },
  },
  identity: {
    async unwrapFileKeys(req, send) {
      await req.ui.message('hello from dummy plugin');
      for (const [i, id] of req.identities.entries()) {
        const data = bech32.fromWords(bech32.decode(id.toLowerCase() as `${string}1${string}`, false).words);
        if (data[0] === 1) {
          const pin = await req.ui.requestSecret('Dummy PIN').catch(() => null);
          if (pin !== '4321') {
            await send.error({ kind: 'identity', index: i, message: pin === null ? 'a PIN is required' : 'wrong PIN' });
            return;
          }
        }
      }
      for (const [f, file] of req.files.entries()) {
        const s = file.find((x) => x.type === 'dummy' && x.args[0] === 'tag123');
        if (s && s.body.length === 16) await send.fileKey(f, s.body);
      }
    },
  },
}).then((code) => process.exit(code));
