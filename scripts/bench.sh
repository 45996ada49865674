#!/usr/bin/env bash
# Runs every benchmark in bench/ and prints its figures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
for b in bench/*.ts; do
  [ -e "$b" ] || continue
  echo "== $b"
  npx tsx "$b"
done
