/**
 * A node builtin module, loaded when first asked for (a builtin that a one-shot command's path
 * does not use costs it nothing). process.getBuiltinModule (node >= 20.16) takes no module path;
 * createRequire(import.meta.url), the fallback, first builds this file's URL, which runs node's
 * URL code at every start of a bundle.
 */
import { createRequire } from 'node:module';

interface BuiltinModules {
  'node:crypto': typeof import('node:crypto');
  'node:os': typeof import('node:os');
  'node:tty': typeof import('node:tty');
  'node:worker_threads': typeof import('node:worker_threads');
}

let fallback: NodeJS.Require | undefined;

export function builtin<K extends keyof BuiltinModules>(id: K): BuiltinModules[K] {
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  return (get ? get(id) : (fallback ??= createRequire(import.meta.url))(id)) as BuiltinModules[K];
}
