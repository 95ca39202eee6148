#!/usr/bin/env bash
# The What-if page end to end in headless Chromium over RECORDS generated enterprises
# (seed 7) on the release server: choosing the file until the kept population is shown, then
# RUNS times pressing Run until the figures and charts are drawn; the median run.
#
#   benches/workbench.sh [RECORDS=100000] [RUNS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-100000}
runs=${2:-5}
. benches/common.sh
population "$records"
. benches/server.sh
port=18768
start_server "$port" analyst
out=$(mktemp)
WORKBENCH_ADDRESS="http://127.0.0.1:$port" WORKBENCH_KEY="$key" WORKBENCH_POPULATION="$data" \
  WORKBENCH_RUNS="$runs" cargo test --quiet --test api what_if_in_the_page_over_a_large_population \
  -- --ignored --nocapture --exact workbench::what_if_in_the_page_over_a_large_population | tee "$out"
echo "median run: $(awk '/^run:/ { print $2 }' "$out" | median) s over $records enterprises"
rm -f "$out"
