#!/usr/bin/env bash
# The test suite under load: starts CPU-burning processes (2 by default), runs the test command
# (`npm test`, i.e. scripts/test.sh) N times in a row (3 by default) and stops at the first
# failure, printing each run's result and time. The burners are always stopped (and stop by
# themselves if this script is killed).
#
#   bash scripts/stress-test.sh [N] [VITEST ARGS...]
#   bash scripts/stress-test.sh 1 test/fuzz.test.ts        # one run of a subset
#   KEYBRIDGE_STRESS_BURNERS=4 bash scripts/stress-test.sh  # more load
#
# Exit status: 0 all runs passed, otherwise the failing run's status. Each run's output is kept
# in a log file whose path is printed.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=3
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
  runs=$1
  shift
fi
if [ "$runs" -lt 1 ]; then
  echo "stress-test: N must be at least 1" >&2
  exit 2
fi
burner_count=${KEYBRIDGE_STRESS_BURNERS:-2}
if ! [[ $burner_count =~ ^[0-9]+$ ]] || [ "$burner_count" -gt 64 ]; then
  echo "stress-test: KEYBRIDGE_STRESS_BURNERS must be a number from 0 to 64" >&2
  exit 2
fi

logdir=$(mktemp -d "${TMPDIR:-/tmp}/keybridge-stress.XXXXXX")
burners=()
stop_burners() {
  for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${burners[@]}"; do wait "$pid" 2>/dev/null; done
  burners=()
}
child=
trap stop_burners EXIT
trap 'echo "stress-test: interrupted" >&2; [ -z "$child" ] || kill -TERM -- "-$child" 2>/dev/null; exit 130' INT TERM

# A busy loop that also ends when this script is gone (even after SIGKILL, which no trap sees).
# shellcheck disable=SC2016
burn='const p = process.ppid; for (let i = 0; ; i++) if (i % 50000000 === 0) { try { process.kill(p, 0); } catch { process.exit(0); } }'
for ((b = 0; b < burner_count; b++)); do
  node -e "$burn" &
  burners+=($!)
done
echo "stress-test: $runs run(s) of the test suite beside $burner_count CPU burner(s) (pids ${burners[*]:-none}); logs in $logdir"

results=()
status=0
for ((i = 1; i <= runs; i++)); do
  log="$logdir/run-$i.log"
  start=$(date +%s)
  # In its own process group, in the background: a signal to this script is handled at once and
  # stops the whole run (pipefail: the status is the test's).
  setsid bash -o pipefail -c 'bash scripts/test.sh "$@" 2>&1 | tee "$0"' "$log" "$@" &
  child=$!
  wait "$child"
  status=$?
  child=
  secs=$(($(date +%s) - start))
  summary=$(sed -E 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^tests: ' | tail -n 1)
  if [ "$status" -eq 0 ]; then
    results+=("run $i/$runs: passed in ${secs} s${summary:+ ($summary)}")
  else
    results+=("run $i/$runs: FAILED (exit $status) after ${secs} s${summary:+ ($summary)}; log: $log")
  fi
  echo "stress-test: ${results[-1]}"
  [ "$status" -eq 0 ] || break
done

stop_burners
echo "stress-test summary ($burner_count burner(s)):"
printf '  %s\n' "${results[@]}"
exit "$status"
