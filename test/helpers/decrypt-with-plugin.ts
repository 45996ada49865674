/**
 * A tiny JavaScript program that decrypts stdin with typage and an age plugin identity through
 * keybridge's client side and terminal UI — as a user's program would.
 *   decrypt-with-plugin IDENTITY < file.age
 */
import { Decrypter } from 'age-encryption';
import { pluginIdentity } from '../../src/age/plugin/typage.ts';
import { terminalUi } from '../../src/age/plugin/client.ts';

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const d = new Decrypter();
d.addIdentity(pluginIdentity(process.argv[2]!, await terminalUi()));
process.stdout.write(await d.decrypt(new Uint8Array(Buffer.concat(chunks)), 'text'));
