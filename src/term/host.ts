/**
 * What kind of host this is, for hints whose fix differs: on NixOS packages and services are
 * declared in the configuration, not installed with apt-get or started with systemctl.
 */
import { readFileSync } from 'node:fs';

/** Whether os-release says ID=nixos. */
export function hostIsNixOS(osRelease = '/etc/os-release'): boolean {
  try {
    return /^ID="?nixos"?$/m.test(readFileSync(osRelease, 'utf8'));
  } catch {
    return false;
  }
}
