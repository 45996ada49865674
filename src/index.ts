/**
 * keybridge library entry point. Everything the CLIs do is callable from here.
 */
export { VERSION } from './version.ts';
