#!/usr/bin/env bash
# The flake check `validate-example` (also run by test/nix/nix.test.ts): `keybridge validate` on
# the example secrets repo must exit 1 and report exactly the faults planted in it
# (test/fixtures/secrets-repo-faults.json), each as kind + subject.
# Usage: validate-example.sh KEYBRIDGE SOURCE_ROOT
set -euo pipefail
kb=$1
src=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT

rc=0
"$kb" validate "$src/test/fixtures/secrets-repo" --no-keys \
  --bw-export "$src/test/fixtures/secrets-repo-bitwarden.json" --json > "$out" || rc=$?
if [ "$rc" -ne 1 ]; then
  echo "validate-example: keybridge validate exited $rc, expected 1 (problems found)" >&2
  exit 1
fi

subjects='[.problems[]
  | .kind + " " + (
      if .kind == "mismatch" then .identity
      elif .kind == "stale" then "keys.txt"
      elif .kind == "unreadable" and (.message | startswith("Bitwarden item sops-"))
        then (.message | capture("Bitwarden item sops-(?<n>\\S+?)-ssh:").n)
      else .file end)] | sort | .[]'
got=$(jq -r "$subjects" "$out")
want=$(jq -r '[.[] | .kind + " " + .subject] | sort | .[]' "$src/test/fixtures/secrets-repo-faults.json")
if [ "$got" != "$want" ]; then
  echo "validate-example: the problems differ from the planted faults" >&2
  diff <(echo "$want") <(echo "$got") >&2 || true
  exit 1
fi
echo "validate-example: $(echo "$got" | wc -l) planted faults reported, nothing else"
