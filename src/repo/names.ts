/**
 * Which names in different contexts are the same identity: by convention (`&crs58`,
 * `&crs58-user`, `sops/users/crs58`, `sops-crs58-ssh`, `sops-crs58-user-ssh`, `crs58` in
 * secrets.nix), overridable by `aliases` in `.keybridge.yaml`.
 */
export function conventionalName(name: string, context: 'anchor' | 'bitwarden' | 'plain'): string {
  let n = name.trim();
  if (context === 'bitwarden') n = n.replace(/^sops-/, '').replace(/-ssh$/, '');
  if (context === 'anchor' || context === 'bitwarden') n = n.replace(/-(user|host)$/, '');
  return n;
}

export function resolveName(name: string, context: 'anchor' | 'bitwarden' | 'plain', aliases: Record<string, string>): string {
  if (Object.hasOwn(aliases, name)) return aliases[name]!;
  const c = conventionalName(name, context);
  return Object.hasOwn(aliases, c) ? aliases[c]! : c;
}
