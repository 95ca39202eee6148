# Sourced by the bench scripts: the binary under test, a cached generated population, and
# the median of numbers on standard input.
#
# TARIFFD_BIN names another build (an older one, to compare); else this one is built.
bin=${TARIFFD_BIN:-target/release/tariffd}
[ -n "${TARIFFD_BIN:-}" ] || cargo build --release --quiet

# population RECORDS: sets `data` to an NDJSON file of that many enterprises (seed 7), made
# once and read once so that runs time the service, not the disk.
population() {
  data=${TMPDIR:-/tmp}/tariffd-population-$1.ndjson
  [ -s "$data" ] || "$bin" gen-population --n "$1" --seed 7 --output "$data"
  cat "$data" > /dev/null
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
