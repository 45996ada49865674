#!/usr/bin/env bash
# The main job, end to end, on this machine: see README "Quick start".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/keybridge.mjs demo "$@"
