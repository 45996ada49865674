#!/usr/bin/env bash
# Runs every benchmark in bench/ and prints its figures, start-up ones as ratios to a bare
# `node -e 0` measured in the same run (absolute times drift with the machine's load).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "node $(node --version), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
# Every node start parses NODE_EXTRA_CA_CERTS before any script runs (tens of ms for a system
# bundle), for TLS that nothing benchmarked here makes: the benchmarks run without it, and
# bench/startup.ts measures what it costs (KEYBRIDGE_BENCH_EXTRA_CA_CERTS).
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
  echo "NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS is set: unset for the benchmarks (bench/startup.ts prints its cost)"
  export KEYBRIDGE_BENCH_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS"
  unset NODE_EXTRA_CA_CERTS
fi
command -v valgrind >/dev/null || echo "valgrind not found: bench/startup.ts prints no instruction counts (Debian: apt-get install valgrind)"
# start-up first: it is the figure most sensitive to what runs beside it
for b in bench/startup.ts bench/*.ts; do
  [ -e "$b" ] || continue
  case " ${done_list:-} " in *" $b "*) continue ;; esac
  done_list="${done_list:-} $b"
  echo "== $b"
  npx tsx "$b"
done
