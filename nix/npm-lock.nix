# package-lock.json with every registry package's `resolved` URL filled in.
#
# A lock file written with npm's `omit-lockfile-registry-resolved` (keybridge's .npmrc turns it
# off, a user's npmrc may turn it on) carries only `version` and `integrity` for registry packages;
# npm then fetches them from its configured registry. nixpkgs' importNpmLock needs a URL per
# package, so this adds the one npm would use: <registry>/<name>/-/<name without scope>-<version>.tgz.
# Entries that have a URL are left as they are. Pure builtins only (no nixpkgs), so it is evaluated
# and checked without nixpkgs too.
{
  lockFile ? ../package-lock.json,
  registry ? "https://registry.npmjs.org",
}:
let
  lock = builtins.fromJSON (builtins.readFile lockFile);

  # "node_modules/a/node_modules/@s/b" -> "@s/b"
  nameOf =
    path:
    let
      parts = builtins.split "node_modules/" path;
    in
    builtins.elemAt parts (builtins.length parts - 1);

  # "@s/b" -> "b"
  baseOf =
    name:
    let
      parts = builtins.split "/" name;
    in
    builtins.elemAt parts (builtins.length parts - 1);

  needsUrl =
    path: pkg:
    path != ""
    && !(pkg ? resolved)
    && !(pkg.link or false)
    && !(pkg.inBundle or false)
    && pkg ? version
    && pkg ? integrity;

  withUrl =
    path: pkg:
    if needsUrl path pkg then
      let
        name = pkg.name or (nameOf path);
      in
      pkg // { resolved = "${registry}/${name}/-/${baseOf name}-${pkg.version}.tgz"; }
    else
      pkg;
in
lock // { packages = builtins.mapAttrs withUrl lock.packages; }
