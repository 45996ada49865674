#!/usr/bin/env bash
# Makes this checkout ready to run: the Debian packages keybridge's demo and tests use, the npm
# dependencies (native addons built against the local Node headers, never downloaded), and the
# bundled executables in dist/. Idempotent and quiet when there is nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(pcscd libpcsclite-dev vsmartcard-vpcd yubikey-manager yubico-piv-tool opensc age
  openssh-client python3 python3-cryptography build-essential libusb-1.0-0 libudev1 util-linux nix-bin
  jq zsh fish man-db groff-base)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "keybridge setup: installing Debian packages: ${missing[*]}" >&2
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then SUDO=(sudo); else
      echo "keybridge setup: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    fi
  fi
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# node-gyp must build against the installed Node headers: a download is impossible offline.
if [ -z "${npm_config_nodedir:-}" ]; then
  for d in /usr /usr/local; do
    if [ -f "$d/include/node/node.h" ]; then export npm_config_nodedir="$d"; break; fi
  done
fi

stamp=node_modules/.keybridge-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "keybridge setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

node scripts/build.mjs
if [ -f native/Makefile ]; then make -s -C native; fi
# The addons (the agent's peer credentials, locked memory, non-dumpable process; ssh-to-age's batch
# point conversion; the start paths' crypto on node's OpenSSL): rebuilt when a source changes.
stale=0
for pair in keybridge_native:agent.c keybridge_bignum:bignum.c keybridge_openssl:openssl.c; do
  addon=native/build/Release/${pair%%:*}.node src=native/${pair#*:}
  if [ ! -f "$addon" ] || [ "$src" -nt "$addon" ] || [ native/binding.gyp -nt "$addon" ] || [ native/napi_args.h -nt "$addon" ]; then stale=1; fi
done
if [ "$stale" = 1 ]; then node scripts/build-native.mjs --quiet; fi
