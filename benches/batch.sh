#!/usr/bin/env bash
# Batch throughput, end to end: the HTTP batch endpoint fed by curl over loopback, and the
# offline `bill` command, each against its floor (the same run validating records instead of
# pricing them: parse and write only). Prints the median of RUNS runs and peak server RSS.
# The input file is read once first, so runs time the service and not the disk. Timed runs
# let curl discard the output (a pipe to another process would take a core's share of its
# own); one run per query first checks the output: a summary that counts every record.
#
#   benches/batch.sh http    [RECORDS=1000000] [RUNS=5]
#   benches/batch.sh cli     [RECORDS=10000000] [RUNS=1]
#   benches/batch.sh formats [RECORDS=1000000] [RUNS=5]   CSV against NDJSON over HTTP, alternating
#   benches/batch.sh columnar [RECORDS=1000000] [RUNS=5]  Parquet and Arrow IPC against CSV, alternating
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-http}
records=${2:-$([ "$mode" = cli ] && echo 10000000 || echo 1000000)}
runs=${3:-$([ "$mode" = cli ] && echo 1 || echo 5)}
. benches/common.sh
population "$records"

# The same population in another format (FORMAT EXTENSION): generated once, read once.
as_format() {
  local file=${data%.ndjson}.$2
  [ -s "$file" ] || "$bin" gen-population --n "$records" --seed 7 --format "$1" --output "$file"
  cat "$file" > /dev/null
  echo "$file"
}
seconds() { # FILE TYPE QUERY: one batch over HTTP, its output discarded
  local start end
  start=$(date +%s.%N)
  curl -sSf -H "content-type: $2" -H "authorization: Bearer $key" --data-binary "@$1" \
    "localhost:$port/v1/bills/batch?$3" -o /dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

if [ "$mode" = formats ]; then
  # The same population as CSV; each run times NDJSON then CSV, so drift touches both alike.
  ndjson=$data
  csv=$(as_format csv csv)
  . benches/server.sh
  port=18766
  start_server "$port" biller
  for query in "detail=totals" "detail=lines" "validate_only=true"; do
    for _ in $(seq "$runs"); do
      echo "$(seconds "$ndjson" application/x-ndjson "$query") $(seconds "$csv" text/csv "$query")"
    done > "$work/times"
    ndjson_s=$(cut -d' ' -f1 "$work/times" | median)
    csv_s=$(cut -d' ' -f2 "$work/times" | median)
    ratio=$(awk '{ print $2 / $1 }' "$work/times" | median)
    printf "%-20s NDJSON %8.0f records/s  CSV %8.0f records/s  CSV/NDJSON time %.2f (medians of %d)\n" \
      "$query" "$(echo "$records / $ndjson_s" | bc -l)" "$(echo "$records / $csv_s" | bc -l)" "$ratio" "$runs"
  done
elif [ "$mode" = columnar ]; then
  # The same population as CSV, Parquet (snappy) and Arrow IPC; each run times all three.
  csv=$(as_format csv csv)
  parquet=$(as_format parquet parquet)
  arrow=$(as_format arrow arrow)
  ls -l "$csv" "$parquet" "$arrow" | awk '{ printf "%s %d bytes\n", $9, $5 }'
  . benches/server.sh
  port=18767
  start_server "$port" biller
  for query in "validate_only=true" "detail=totals"; do
    for _ in $(seq "$runs"); do
      echo "$(seconds "$csv" text/csv "$query") $(seconds "$parquet" application/vnd.apache.parquet "$query") $(seconds "$arrow" application/vnd.apache.arrow.file "$query")"
    done > "$work/times"
    csv_s=$(cut -d' ' -f1 "$work/times" | median)
    parquet_ratio=$(awk '{ print $2 / $1 }' "$work/times" | median)
    arrow_ratio=$(awk '{ print $3 / $1 }' "$work/times" | median)
    printf "%-20s CSV %8.0f records/s  Parquet/CSV time %.2f  Arrow/CSV time %.2f (medians of %d)\n" \
      "$query" "$(echo "$records / $csv_s" | bc -l)" "$parquet_ratio" "$arrow_ratio" "$runs"
  done
elif [ "$mode" = http ]; then
  . benches/server.sh
  port=18765
  start_server "$port" biller
  batch() {
    curl -sSf -H 'content-type: application/x-ndjson' -H "authorization: Bearer $key" \
      --data-binary "@$data" "localhost:$port/v1/bills/batch?$1" "${@:2}"
  }
  for query in "detail=lines" "detail=totals" "validate_only=true"; do
    batch "$query" | tail -n 1 | grep -q "\"summary\":{\"lines\":$records," \
      || { echo "batch failed: $query" >&2; exit 1; }
    for _ in $(seq "$runs"); do
      start=$(date +%s.%N)
      batch "$query" -o /dev/null
      end=$(date +%s.%N)
      echo "$records / ($end - $start)" | bc -l
    done | median | xargs printf "HTTP %-20s %8.0f records/s (median of $runs)\n" "$query"
  done
  echo "peak server RSS: $(awk '/VmHWM/ { print $2 / 1024 " MB" }' /proc/$server/status)"
else
  for flags in "--detail lines" "--detail totals" "--validate-only"; do
    for _ in $(seq "$runs"); do
      /usr/bin/time -f "%e %M" "$bin" bill $flags --input "$data" --output /dev/null 2> /tmp/tariffd-cli-time \
        || { cat /tmp/tariffd-cli-time; exit 1; }
      read -r seconds rss < <(tail -n 1 /tmp/tariffd-cli-time)
      echo "$(echo "$records / $seconds" | bc -l) $rss"
    done | sort -n | awk -v f="$flags" -v n="$runs" '{ r[NR] = $1; m[NR] = $2 } END {
      i = int((NR + 1) / 2); printf "CLI  %-20s %8.0f records/s, peak RSS %.0f MB (median of %d)\n", f, r[i], m[i] / 1024, n }'
  done
fi
