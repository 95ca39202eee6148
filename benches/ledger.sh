#!/usr/bin/env bash
# The registry and the ledger on SQLite, end to end over loopback (curl; output discarded).
# Each figure is the median of RUNS runs; ratios are taken run by run, alternating the two
# sides, so that drift touches both alike.
#
#   benches/ledger.sh issue     [RECORDS=1000000] [RUNS=3]  a batch issued into the ledger
#                                                           (a fresh database each run)
#                                                           against the same batch priced only
#   benches/ledger.sh reference [RECORDS=1000000] [RUNS=5]  bills by reference against the
#                                                           same bills given in full
#   benches/ledger.sh import    [ENTERPRISES=100000] [RUNS=3]  a registry file recorded
#                                                           (a fresh database each run)
#   benches/ledger.sh floor     [ROWS=1000000]              SQLite alone on this disk (the
#                                                           sqlite3 shell, no tariffd): ledger
#                                                           rows as stored, and rows of 150 B,
#                                                           each in one transaction with the
#                                                           bill-id key: the most any ledger
#                                                           on SQLite could issue here
#   benches/ledger.sh commits   [ROWS=200000]               SQLite alone again: the same rows
#                                                           committed every 512, 2 048, 8 192
#                                                           and 32 768 rows, and in one commit
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-issue}
records=${2:-$([ "$mode" = import ] && echo 100000 || echo 1000000)}
if [ "$mode" = floor ] || [ "$mode" = commits ]; then
  command -v sqlite3 > /dev/null || { echo "needs the sqlite3 shell (apt-get install sqlite3)" >&2; exit 1; }
  db=$(mktemp -d)/floor.db
  # insert BILL_BYTES [COMMIT_ROWS]: seconds to insert $records rows shaped as the ledger's
  # (random bill ids), committed every COMMIT_ROWS rows (default: all in one commit).
  insert() {
    rm -f "$db"*
    sqlite3 "$db" "PRAGMA journal_mode = WAL;" > /dev/null
    sqlite3 "$db" < migrations/0002_ledger.sql
    local start end every=${2:-$records} first
    for ((first = 1; first <= records; first += every)); do
      echo "BEGIN;
      WITH RECURSIVE n(i) AS (SELECT $first UNION ALL SELECT i + 1 FROM n WHERE i < MIN($first + $every - 1, $records))
      INSERT INTO ledger_bills SELECT 'bill-' || lower(hex(randomblob(16))), printf('SYN-%08d', i),
        '2020-10-01', '2020-10-31', '0.00', '154391.19', 'cn-sx-xinzhou', 'sha256:' || lower(hex(randomblob(32))),
        NULL, zeroblob(340), zeroblob($1), '2026-12-01T08:00:00Z', 'bench', NULL, '', NULL, NULL FROM n;
      COMMIT;"
    done > "$db.sql"
    start=$(date +%s.%N)
    (echo "PRAGMA cache_size = -65536;"; cat "$db.sql") | sqlite3 "$db"
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
  }
  if [ "$mode" = commits ]; then
    records=${2:-200000}
    for every in 512 2048 8192 32768 "$records"; do
      printf "SQLite alone, %d ledger rows committed every %d: %.0f rows/s\n" \
        "$records" "$every" "$(echo "$records / $(insert 1050 "$every")" | bc -l)"
    done
    rm -rf "$(dirname "$db")"
    exit 0
  fi
  as_stored=$(insert 1050)
  small=$(insert 0)
  printf "SQLite alone, %d rows in one transaction: as the ledger stores them (request + bill, ~2.2 KB) %.0f rows/s; without the bill's JSON %.0f rows/s\n" \
    "$records" "$(echo "$records / $as_stored" | bc -l)" "$(echo "$records / $small" | bc -l)"
  rm -rf "$(dirname "$db")"
  exit 0
fi
runs=${3:-$([ "$mode" = reference ] && echo 5 || echo 3)}
. benches/common.sh
. benches/server.sh
port=18768
times=$(mktemp)

# The population given in full (common.sh), and by reference with its registry file.
population "$records"
referenced=${data%.ndjson}.by-reference.ndjson
registry=${data%.ndjson}.registry.csv
[ -s "$registry" ] || "$bin" gen-population --n "$records" --seed 7 --output "$referenced" --registry "$registry"
cat "$referenced" "$registry" > /dev/null

# post PATH TYPE FILE [QUERY]: seconds the request took; fails unless it succeeded.
post() {
  local start end
  start=$(date +%s.%N)
  curl -sSf -H "content-type: $2" -H "authorization: Bearer $key" --data-binary "@$3" \
    "localhost:$port$1?${4:-}" -o "$work/answer"
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
summary_counts() { tail -n 1 "$work/answer" | grep -q "\"billed\":$1," || { echo "not every record billed: $(tail -c 300 "$work/answer")" >&2; exit 1; }; }
fresh() { kill "$server" 2> /dev/null; wait "$server" 2> /dev/null || true; rm -rf "$work"; start_server "$port" admin; }

case $mode in
issue)
  start_server "$port" admin
  for _ in $(seq "$runs"); do
    fresh
    priced=$(post /v1/bills/batch application/x-ndjson "$data" detail=lines)
    issued=$(post /v1/ledger/bills/batch application/x-ndjson "$data" detail=lines)
    summary_counts "$records"
    echo "$priced $issued"
  done > "$times"
  ;;
reference)
  start_server "$port" admin
  post /v1/enterprises/import text/csv "$registry" > /dev/null
  for _ in $(seq "$runs"); do
    given=$(post /v1/bills/batch application/x-ndjson "$data" detail=lines)
    summary_counts "$records"
    by_reference=$(post /v1/bills/batch application/x-ndjson "$referenced" detail=lines)
    summary_counts "$records"
    echo "$given $by_reference"
  done > "$times"
  ;;
import)
  start_server "$port" admin
  file=${registry%.csv}.head-$records.csv
  head -n $((records + 1)) "$registry" > "$file"
  for _ in $(seq "$runs"); do
    fresh
    post /v1/enterprises/import text/csv "$file"
  done > "$times"
  ;;
esac
case $mode in
issue)
  printf "issued into the ledger: %.0f bills/s; priced only: %.0f bills/s; issue/price time %.2f (medians of %d, %d records)\n" \
    "$(echo "$records / $(cut -d' ' -f2 "$times" | median)" | bc -l)" \
    "$(echo "$records / $(cut -d' ' -f1 "$times" | median)" | bc -l)" \
    "$(awk '{ print $2 / $1 }' "$times" | median)" "$runs" "$records" ;;
reference)
  printf "by reference: %.0f bills/s; given in full: %.0f bills/s; throughput by reference / in full %.2f (medians of %d, %d records)\n" \
    "$(echo "$records / $(cut -d' ' -f2 "$times" | median)" | bc -l)" \
    "$(echo "$records / $(cut -d' ' -f1 "$times" | median)" | bc -l)" \
    "$(awk '{ print $1 / $2 }' "$times" | median)" "$runs" "$records" ;;
import)
  printf "registry import of %d enterprises: %.2f s (median of %d)\n" "$records" "$(median < "$times")" "$runs" ;;
esac
rm -f "$times"
