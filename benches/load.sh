#!/usr/bin/env bash
# Single bills under load: a fixed request rate for a fixed time over loopback, with an API
# key, reporting throughput, p50/p99 latency, errors and the server's memory before and
# after. The load tool (oha, from crates.io: `cargo install oha`) shares the 2 cores.
#
#   benches/load.sh [RATE=10000] [SECONDS=60] [CONNECTIONS=64]
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-10000}
seconds=${2:-60}
connections=${3:-64}
command -v oha > /dev/null || { echo "needs oha: cargo install oha" >&2; exit 1; }
. benches/common.sh

. benches/server.sh
port=18766
start_server "$port" biller

body='{"tariff":"cn-sx-xinzhou","period":{"month":"2020-10"},"enterprise":{"id":"XZ-0001","industry":"steel","catalogue_class":"restricted"},"assessment":{"year":2019,"steel_processes":[{"process":"blast_furnace","intensity":"440"}],"energy_intensity":{"value":"1.5","limit":"1.0"}},"electricity":{"kwh":"1250000","base_price":"0.4523"},"water":{"m3":"52000","quota_m3":"40000","base_price":"4.20","meets_standard":false}}'
rss() { awk '/VmRSS/ { print $2 / 1024 }' "/proc/$server/status"; }
# Warm up, then measure.
oha -z 5s -q "$rate" -c "$connections" --no-tui -m POST -H 'content-type: application/json' \
  -H "authorization: Bearer $key" -d "$body" "http://127.0.0.1:$port/v1/bills" > /dev/null
before=$(rss)
oha -z "${seconds}s" -q "$rate" -c "$connections" --latency-correction --no-tui \
  -m POST -H 'content-type: application/json' -H "authorization: Bearer $key" -d "$body" \
  "http://127.0.0.1:$port/v1/bills" | tee "$work/oha.txt"
after=$(rss)
printf 'server RSS: %.0f MB before, %.0f MB after, peak %s\n' "$before" "$after" \
  "$(awk '/VmHWM/ { print $2 / 1024 " MB" }' "/proc/$server/status")"
