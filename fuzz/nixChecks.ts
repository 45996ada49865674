/** Checks the fuzz targets of the Nix readers (secrets.nix, clan.nix) share. */
import { NixParser, NixSubsetError } from '../src/repo/readers/nix.ts';
import { prototypeFree } from './arbitraries.ts';
import { MAX_MESSAGE } from './registry.ts';

/** What the Nix readers may throw: their own errors, or a plain Error for the wrong shape, with a bounded message. */
export const documented = (e: unknown) => e instanceof Error && (e instanceof NixSubsetError || e.constructor === Error) && e.message.length <= MAX_MESSAGE;

/** Parses `text` with the subset parser: only documented errors, and no attribute set with a prototype. */
export function parseNixChecked(text: string, file: string, lenient: boolean): void {
  let value: unknown;
  try {
    value = new NixParser(text, file, lenient).parseTop(new Map());
  } catch (e) {
    if (!documented(e)) throw e;
  }
  if (!prototypeFree(value)) throw new TypeError('an attribute set with a prototype (a name such as __proto__ became one)');
}
