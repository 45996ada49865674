/**
 * Bitwarden exports and items as keybridge bw reads them: any JSON value, item lists with wrong
 * types, and key fields holding mutated SSH keys. Only BitwardenError (with its code) escapes.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { BitwardenError, checkItems } from '../../src/bitwarden/source.ts';
import { deriveFromItem } from '../../src/bitwarden/derive.ts';
import { hostileText } from '../arbitraries.ts';
import { boundedError, registerTarget } from '../registry.ts';

const FIX = new URL('../../test/fixtures/ssh-to-age/', import.meta.url);
const pub = readFileSync(new URL('id_ed25519.pub', FIX), 'utf8').trim();
const priv = readFileSync(new URL('id_ed25519', FIX), 'utf8');
const other = readFileSync(new URL('id_ed25519_passphrase.pub', FIX), 'utf8').trim();

const keyText = fc.oneof(fc.constantFrom(pub, other, priv, `ssh-rsa ${pub.split(' ')[1]}`, pub.slice(0, 40), priv.slice(0, 200), 'ssh-ed25519 ', ''), hostileText);
const field = fc.oneof({ weight: 6, arbitrary: keyText }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }, { weight: 1, arbitrary: fc.constant(undefined) });
const item = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record(
      {
        id: fc.oneof(fc.string({ maxLength: 10 }), fc.constant(null), fc.integer()),
        name: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('sops-a-ssh', 'SOPS-A-SSH', 'sops-b-ssh') }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 0 }) }, { weight: 1, arbitrary: hostileText }),
        type: fc.constantFrom(1, 2, 5, '5'),
        notes: field,
        login: fc.oneof(fc.record({ username: field, password: field }, { requiredKeys: [] }), fc.constant(null), fc.jsonValue({ maxDepth: 0 })),
        sshKey: fc.oneof(fc.record({ publicKey: field, privateKey: field }, { requiredKeys: [] }), fc.constant(null), fc.jsonValue({ maxDepth: 0 })),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
const exportData = fc.oneof(
  { weight: 6, arbitrary: fc.record({ encrypted: fc.constantFrom(false, true, undefined), items: fc.array(item, { maxLength: 4 }) }, { requiredKeys: ['items'] }) },
  { weight: 1, arbitrary: fc.array(item, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

registerTarget({
  name: 'bitwarden-export',
  description: 'checkItems and deriveFromItem (with and without the identity) on generated exports and items',
  input: exportData,
  run(data) {
    const list = Array.isArray(data) ? data : typeof data === 'object' && data !== null ? (data as { items?: unknown }).items : data;
    const items = checkItems(list, 'export.json');
    for (const it of items) {
      for (const identity of [false, true]) {
        try {
          const d = deriveFromItem(it, { identity });
          if (!d.recipient.startsWith('age1')) throw new Error('not a recipient');
        } catch (e) {
          if (!boundedError(e, BitwardenError)) throw e;
        }
      }
    }
  },
  documented: (e) => boundedError(e, BitwardenError),
});
