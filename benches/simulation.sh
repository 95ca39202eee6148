#!/usr/bin/env bash
# A simulation end to end over HTTP: a population of RECORDS generated enterprises streamed
# as the multipart part `population` (NDJSON) with a one-parameter reform, answered with the
# full report. Prints the median wall time of RUNS runs and the server's peak RSS.
#
#   benches/simulation.sh [RECORDS=1000000] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-1000000}
runs=${2:-3}
. benches/common.sh
population "$records"

. benches/server.sh
port=18766
start_server "$port" analyst
reform='{"tariff":"cn-sx-xinzhou","reform":{"name":"bench","parameters":{"electricity.differential.steel.eliminated":"0.80"}}}'
simulate() {
  curl -sSf -H "authorization: Bearer $key" \
    -F "simulation=$reform;type=application/json" \
    -F "population=@$data;type=application/x-ndjson" \
    "localhost:$port/v1/simulations" "$@"
}
simulate | grep -q "\"records\":$records,\"priced\":$records" || { echo "simulation failed" >&2; exit 1; }
for _ in $(seq "$runs"); do
  start=$(date +%s.%N)
  simulate -o /dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
done | median | xargs printf "simulation of $records enterprises over HTTP: %.2f s (median of $runs)\n"
echo "peak server RSS: $(awk '/VmHWM/ { print $2 / 1024 " MB" }' /proc/$server/status)"
