/**
 * The `keybridge` subcommands. Each is loaded only when invoked, so start-up stays cheap.
 * Add a line here for a new subcommand; its module exports `command: Command`.
 */
import type { Command } from './io.ts';

export interface CommandEntry {
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

export const commands: Record<string, CommandEntry> = {
  'ssh-to-age': {
    summary: 'convert SSH Ed25519 keys to age recipients and identities (drop-in for ssh-to-age)',
    load: async () => (await import('./ssh-to-age.ts')).command,
  },
  demo: {
    summary: 'run the main job end to end on this machine, on a virtual YubiKey (no hardware needed)',
    load: async () => (await import('./demo.ts')).command,
  },
  validate: {
    summary: 'check that every user and host has the same key in every context of a secrets repo',
    load: async () => (await import('./validate.ts')).command,
  },
  bw: {
    summary: 'age keys from Bitwarden SSH-key items: derive a recipient/identity, sync keys.txt',
    load: async () => (await import('./bw.ts')).command,
  },
  sim: {
    summary: 'run a virtual token (sim yubikey) that PC/SC clients see through pcscd + vpcd',
    load: async () => (await import('./sim.ts')).command,
  },
  rig: {
    summary: 'start pcscd with the vpcd driver (and optionally a virtual YubiKey) until Ctrl-C',
    load: async () => (await import('./rig.ts')).command,
  },
  udev: {
    summary: 'show or install the udev rules that let you use FIDO2 keys without root',
    load: async () => (await import('./udev.ts')).command,
  },
  completion: {
    summary: 'print the shell completion script (bash, zsh or fish) for every keybridge executable',
    load: async () => (await import('./completion-command.ts')).command,
  },
  version: {
    summary: 'print the keybridge version',
    load: async () => (await import('./version.ts')).command,
  },
};
