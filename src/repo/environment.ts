/**
 * The environment validation runs in, for messages that differ by it: whether this is NixOS
 * (`/etc/NIXOS`, or `ID=nixos` in `/etc/os-release`) and which age plugins are on PATH. Tests
 * inject both.
 */
import { existsSync, readFileSync } from 'node:fs';
import { findPlugin } from '../age/plugin/client.ts';

export interface Environment {
  nixos: boolean;
  /** Whether `age-plugin-<name>` is on PATH. */
  hasPlugin(name: string): boolean;
}

export function detectNixos(files: { nixosMarker?: string; osRelease?: string } = {}): boolean {
  const marker = files.nixosMarker ?? '/etc/NIXOS';
  const osRelease = files.osRelease ?? '/etc/os-release';
  if (existsSync(marker)) return true;
  try {
    return /^ID="?nixos"?\s*$/m.test(readFileSync(osRelease, 'utf8').slice(0, 65536));
  } catch {
    return false;
  }
}

export function detectEnvironment(env: NodeJS.ProcessEnv = process.env, files?: { nixosMarker?: string; osRelease?: string }): Environment {
  return {
    nixos: detectNixos(files),
    hasPlugin(name) {
      try {
        findPlugin(name, env);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** How to install a missing age plugin, for this environment. */
export function pluginInstallHint(name: string, nixos: boolean): string {
  const pkg = `age-plugin-${name}`;
  const ours = ['yubikey'].includes(name) ? ` (keybridge ships ${pkg}: npm install -g keybridge)` : '';
  if (nixos) return `add pkgs.${pkg} to environment.systemPackages (and to sops-nix/agenix/clan's age plugins: age.plugins / secrets.age.plugins) and rebuild${ours}`;
  return `install ${pkg} so that it is on PATH${ours}`;
}
