#!/usr/bin/env bash
# The whole test suite: sets the checkout up (packages, npm ci, build), type-checks, runs vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsc --noEmit
exec npx vitest run "$@"
