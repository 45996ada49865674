/** Reads the header stanzas of an age file (armored or binary), for format tests. */
import { armor } from 'age-encryption';
import { StanzaReader, type Stanza } from '../../src/age/stanza.ts';

export async function headerStanzas(file: Uint8Array | string): Promise<Stanza[]> {
  const text = typeof file === 'string' ? file : Buffer.from(file).toString('latin1');
  const bytes = text.startsWith('-----BEGIN AGE ENCRYPTED FILE-----') ? armor.decode(text) : typeof file === 'string' ? Buffer.from(file, 'latin1') : file;
  const all = Buffer.from(bytes).toString('latin1');
  if (!all.startsWith('age-encryption.org/v1\n')) throw new Error('not an age file');
  const end = all.indexOf('\n--- ');
  const header = all.slice('age-encryption.org/v1\n'.length, end + 1);
  const reader = new StanzaReader((async function* () {
    yield header;
  })());
  const out: Stanza[] = [];
  for (let s = await reader.next(); s; s = await reader.next()) out.push(s);
  return out;
}

/** The sections of a txtar archive by name. */
export function txtar(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const parts = text.split(/^-- (.+?) --\n/m);
  for (let i = 1; i < parts.length; i += 2) out[parts[i]!] = parts[i + 1]!;
  return out;
}
