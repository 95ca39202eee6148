#!/usr/bin/env bash
# What-ifs over HTTP on one population of RECORDS generated enterprises (seed 7), each run
# timing, in turn: the parse floor (a `validate_only` batch of the NDJSON file), baseline +
# reform with the population streamed (multipart), the same from a kept `population_id`,
# and a 20-point sweep on the kept population. Ratios are taken run by run, then the median.
# Also prints what keeping the population took (time, bytes counted, server RSS growth).
#
#   benches/whatif.sh [RECORDS=1000000] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-1000000}
runs=${2:-3}
. benches/common.sh
population "$records"
. benches/server.sh
port=18767
start_server "$port" admin
times=$(mktemp)

reform='"reform":{"name":"bench","parameters":{"electricity.differential.steel.eliminated":"0.80"}}'
sweep='"sweep":{"parameter":"electricity.differential.steel.restricted","from":"0.10","to":"0.29","step":"0.01"}'
auth="authorization: Bearer $key"

# seconds COMMAND…: the wall time of a command that must succeed (its output discarded).
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" > "$work/answer"
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
floor() { curl -sSf -H "$auth" -H 'content-type: application/x-ndjson' --data-binary "@$data" "localhost:$port/v1/bills/batch?validate_only=true"; }
streamed() {
  curl -sSf -H "$auth" -F "simulation={\"tariff\":\"cn-sx-xinzhou\",$reform};type=application/json" \
    -F "population=@$data;type=application/x-ndjson" "localhost:$port/v1/simulations"
}
kept() { curl -sSf -H "$auth" -H 'content-type: application/json' -d "{\"population_id\":\"$id\",$reform${1:+,$1}}" "localhost:$port/v1/simulations"; }
rss() { awk '/VmRSS/ { print $2 * 1024 }' "/proc/$server/status"; }

before=$(rss)
keep_time=$(seconds curl -sSf -H "$auth" -H 'content-type: application/x-ndjson' --data-binary "@$data" "localhost:$port/v1/populations")
id=$(grep -o '"population_id":"[^"]*"' "$work/answer" | cut -d'"' -f4)
bytes=$(grep -o '"bytes":[0-9]*' "$work/answer" | cut -d: -f2)
grep -q "\"records\":$records," "$work/answer" || { echo "population not kept whole: $(head -c 300 "$work/answer")" >&2; exit 1; }
after=$(rss)

for _ in $(seq "$runs"); do
  echo "$(seconds floor) $(seconds streamed) $(seconds kept) $(seconds kept "$sweep")"
  grep -q '"points":\[' "$work/answer" || { echo "the sweep answered no curve" >&2; exit 1; }
done > "$times"

column() { cut -d' ' -f"$1" "$times" | median; }
ratio() { awk "{ print \$$1 / \$$2 }" "$times" | median; }
printf "%d enterprises, medians of %d runs\n" "$records" "$runs"
printf "  parse floor (validate_only batch)   %6.2f s\n" "$(column 1)"
printf "  baseline + reform, streamed        %6.2f s   %.2f x the floor\n" "$(column 2)" "$(ratio 2 1)"
printf "  the same from a kept population    %6.3f s   %.3f x streamed\n" "$(column 3)" "$(ratio 3 2)"
printf "  20-point sweep, kept population    %6.2f s   %.2f x streamed\n" "$(column 4)" "$(ratio 4 2)"
printf "  keeping it: %.2f s, %d MB counted, server RSS +%d MB\n" "$keep_time" "$((bytes / 1000000))" "$(((after - before) / 1000000))"
